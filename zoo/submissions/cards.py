"""A model card as visitors see it: its markdown body rendered to HTML (markdown-it-py, CommonMark with raw HTML and
tables), then cleaned by an allow-list (nh3, the binding of Rust's Ammonia). The gate and the app use the same two
steps, so a card that passes the gate is shown exactly as written, and anything the allow-list would remove is a
refusal that names it. A pattern list of bad things never ends; an allow-list of plain ones does.

This module is the one exception to zoo's import list (torch, safetensors, huggingface_hub, numpy): nh3 and
markdown-it-py are core dependencies, because ``python -m zoo submit`` and the app must refuse the same cards.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import nh3
from huggingface_hub import ModelCard
from markdown_it import MarkdownIt

# the plain tags markdown writes (and a few inline ones): no img (a submission carries no figures, and an external
# image tracks its viewers), no div/span/style/form/media, nothing that runs or loads anything
ALLOWED_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong", "b", "i", "del", "s"}
    | {"code", "pre", "kbd", "sub", "sup", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br"}
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},  # a list that starts at 3
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},  # only language-NAME, from a fenced block (see _keep_attribute)
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})  # and no relative links: they point at nothing in the app
LINK_REL = "noopener noreferrer nofollow"
MAX_CARD_CHARS = 100_000  # markdown-it takes seconds on hostile markdown beyond this; the zoo's longest is 13,000
ALLOWED_SUMMARY = (
    "markdown and plain tags (p, headings, lists, emphasis, code, blockquotes, tables, links to http(s) or mailto), "
    "no images, styles, scripts or event attributes"
)
_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_ALIGN = re.compile(r"text-align:(left|right|center)")
_TAG_LIKE = re.compile(r"<[A-Za-z!/?]")  # text a browser, or another markdown renderer, could read as a tag


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "code" and attribute == "class":
        return value if _LANGUAGE.fullmatch(value) else None
    if attribute == "align":
        return value if value in ("left", "right", "center") else None
    return value


def _align_attributes(state: Any) -> None:
    """markdown-it writes a column's alignment as a style attribute; the allow-list has no styles, so: align."""
    for token in state.tokens:
        style = token.attrs.get("style") if token.type in ("th_open", "td_open") else None
        if style and (m := _ALIGN.fullmatch(style)):
            del token.attrs["style"]
            token.attrs["align"] = m.group(1)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    # every link written in markdown reaches the HTML as written, so that the allow-list, not markdown-it's own
    # filter, decides: [x](javascript:...) is then refused instead of silently shown as text
    md.validateLink = lambda url: True
    md.core.ruler.push("align_attributes", _align_attributes)
    return md


_MD = _markdown()


def body(text: str) -> str:
    """The markdown under a card's YAML metadata block (what is shown; the metadata is read, not shown)."""
    try:
        return ModelCard(text, ignore_metadata_errors=True).text
    except Exception:  # metadata that is not even a mapping: the gate refuses it on its own
        return text


def render(markdown: str) -> str:
    """Markdown to HTML, raw HTML passed through as written (the sanitiser judges it)."""
    return _MD.render(markdown)


def sanitise(html: str) -> str:
    """Only the allow-list survives: other tags are dropped (a script's or style's text with them), other
    attributes and URLs removed, every link gets rel="noopener noreferrer nofollow"."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style", "template", "noscript", "textarea", "xmp", "iframe", "noembed"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_keep_attribute,
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def card_html(text: str) -> str:
    """A card's README.md as the HTML visitors see: body, rendered, sanitised (cut at ``MAX_CARD_CHARS``, for
    cards admitted before that limit)."""
    return sanitise(render(body(text)[:MAX_CARD_CHARS]))


# ---------------------------------------------------------------------------------------- the gate
def refusal(markdown: str) -> str | None:
    """None when sanitising leaves the rendered card as it is (compared as tags, attributes and text, so that
    spellings such as ``<br />`` and ``<br>`` are the same); otherwise the gate's sentence, naming the first thing
    that would be removed or changed. Text outside code that looks like a tag is refused too: another renderer
    (the Hub's, a browser given the raw file) could read it as one."""
    if len(markdown) > MAX_CARD_CHARS:
        return f"README.md's text is {len(markdown):,} characters; a card holds at most {MAX_CARD_CHARS:,}"
    rendered = render(markdown)
    before, after = _Tokens.of(rendered), _Tokens.of(sanitise(rendered))
    for stream in ("tags", "text"):  # tags first: a tag removed between words would merge the text around it
        got, kept = getattr(before, stream)(), getattr(after, stream)()
        if got != kept:
            i = next((i for i, (a, b) in enumerate(zip(got, kept, strict=False)) if a != b), min(len(got), len(kept)))
            what = _describe(got[i] if i < len(got) else kept[i], kept[i] if i < len(kept) else None)
            return (
                f"README.md holds active HTML that would be removed when shown: {what}; cards may use {ALLOWED_SUMMARY}"
            )
    if before.odd:
        return (
            f"README.md holds text that another renderer could read as an HTML tag ({before.odd}); "
            "write such text in `backticks`"
        )
    return None


def _describe(got: tuple, kept: tuple | None) -> str:
    kind = got[0]
    if kind == "start" and got[1] not in ALLOWED_TAGS:
        attributes = sorted(got[2], key=lambda a: not a[0].startswith("on"))  # an event attribute first
        return f"the {got[1]} tag" + (
            f" ({_clip(', '.join(_quote(*a) for a in attributes), 60)})" if attributes else ""
        )
    if kind == "start" and kept is not None and kept[:2] == got[:2]:
        gone = [a for a in got[2] if a not in kept[2]]
        if gone:
            return f"{_quote(*gone[0])} on the {got[1]} tag"
    if kind == "start":
        return f"the {got[1]} tag, which would be moved or closed elsewhere"
    if kind == "end":
        return f"a closing {got[1]} tag without its opening one"
    if kind in ("comment", "declaration"):
        return f"a {kind} holding markup ({_clip(got[1])})"
    return f'HTML that would be rearranged near "{_clip(got[1])}"'


def _quote(name: str, value: str) -> str:
    return f'{name}="{_clip(value)}"' if value else name


def _clip(text: str, n: int = 40) -> str:
    """A short excerpt to name in a message, without angle brackets (the app shows messages as HTML)."""
    text = " ".join(text.replace("<", " ").replace(">", " ").split())
    return text if len(text) <= n else text[: n - 3] + "..."


class _Tokens(HTMLParser):
    """An HTML string as a list of tags (names and attributes, entities decoded), runs of text and non-trivial
    comments: the same list for two spellings of the same markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []
        self.odd: str | None = None  # text that looks like a tag, outside code
        self._code = 0

    def tags(self) -> list[tuple]:
        return [t for t in self.tokens if t[0] != "text"]

    def text(self) -> list[tuple]:
        return [t for t in self.tokens if t[0] == "text"]

    @classmethod
    def of(cls, html: str) -> _Tokens:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        keep = sorted((k, v or "") for k, v in attrs if not (tag == "a" and k == "rel"))  # rel: set by the sanitiser
        self.tokens.append(("start", tag, tuple(keep)))
        self._code += tag in ("code", "pre")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._code -= tag in ("code", "pre")

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag))
        self._code = max(0, self._code - (tag in ("code", "pre")))

    def handle_data(self, data: str) -> None:
        if self.tokens and self.tokens[-1][0] == "text":
            data = self.tokens.pop()[1] + data
        self.tokens.append(("text", data))
        if self.odd is None and not self._code and (m := _TAG_LIKE.search(data)):
            self.odd = _clip(data[m.start() :])

    def handle_comment(self, data: str) -> None:
        if "<" in data or ">" in data or "[if" in data.lower():  # plain comments are not shown either way
            self.tokens.append(("comment", data))

    def handle_decl(self, decl: str) -> None:
        self.tokens.append(("declaration", decl))

    handle_pi = handle_decl
    unknown_decl = handle_decl
