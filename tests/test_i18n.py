"""The app's words in both languages: every key in both tables, every zoo entry's summary in Chinese, a handler's
answer in the language its request asks for (fast: no app is started)."""

from __future__ import annotations

import string
from types import SimpleNamespace

import pytest

import zoo
from demos.i18n import say, speaking, t
from demos.i18n_text import EN, SUMMARIES_ZH, ZH


def test_every_english_text_has_a_chinese_one_and_back():
    """A key missing in one table shows its English (or nothing) to a reader of the other."""
    assert sorted(set(EN) - set(ZH)) == [] and sorted(set(ZH) - set(EN)) == []
    assert all(ZH[key].strip() for key in ZH)


def test_both_texts_of_a_key_take_the_same_fields():
    """A field only one language names would raise a KeyError in the other language's answer."""

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert {k: fields(EN[k]) for k in EN} == {k: fields(ZH[k]) for k in EN}


def test_every_catalog_entry_has_a_chinese_summary():
    """A new zoo entry needs its summary in Chinese too (the Leaderboard shows it beside the card)."""
    assert sorted(set(zoo.ENTRIES) - set(SUMMARIES_ZH)) == []
    assert sorted(set(SUMMARIES_ZH) - set(zoo.ENTRIES)) == []


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        ("", "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("", "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("", "fr-FR,zh-TW;q=0.7", "zh-CN"),
        ("", "", "en"),
        ("en", "zh-CN", "en"),  # the page's chosen language wins over the browser's
        ("zh-CN", "en-US", "zh-CN"),
    ],
)
def test_a_handler_answers_in_the_language_of_its_request(cookie, header, expected):
    request = SimpleNamespace(cookies={"dlfs_lang": cookie}, headers={"accept-language": header})
    with speaking(request) as locale:
        assert locale == expected
        answer = say("digits_flag_nothing")
    assert answer == (ZH if expected == "zh-CN" else EN)["digits_flag_nothing"]
    assert say("digits_flag_nothing") == EN["digits_flag_nothing"]  # outside: English, for programs


def test_a_text_with_values_is_formatted_in_both_languages():
    shown = t("digits_default", top="mnist-cnn-robust", drawn=97.25)
    from demos.i18n import TEXT

    assert "`mnist-cnn-robust`" in TEXT["en"][shown.key] and "97.2 %" in TEXT["en"][shown.key]
    assert "`mnist-cnn-robust`" in TEXT["zh-CN"][shown.key] and "认对" in TEXT["zh-CN"][shown.key]


CHINESE_READER = SimpleNamespace(cookies={"dlfs_lang": "zh-CN"}, headers={})


def test_a_cap_refuses_in_the_readers_language():
    """demos.quotas: the limit, and when the next slot frees, in Chinese for a Chinese page (English otherwise)."""
    import gradio as gr

    from demos import quotas

    window = quotas.Window("flags", 1, 3600)
    window.take("reader")
    with speaking(CHINESE_READER), pytest.raises(gr.Error) as info:
        window.take("reader")
    assert "已标记 1 张图" in info.value.message and "小时后" in info.value.message
    with pytest.raises(gr.Error) as info:
        window.take("reader")
    assert info.value.message.startswith("You have sent 1 flagged drawings in the last hour")


def test_a_drawing_zoo_sketch_cannot_read_is_refused_in_the_readers_language():
    """zoo.sketch names its refusal (SketchError.code); the app says it in the page's language."""
    import gradio as gr
    import numpy as np

    from demos.widgets import read_digit

    with speaking(CHINESE_READER), pytest.raises(gr.Error) as info:
        read_digit(np.zeros((4, 4), dtype=np.uint8))
    assert info.value.message == ZH["sketch_too_small"].format(w=4, h=4)
    with pytest.raises(gr.Error) as info:
        read_digit(np.zeros((4, 4), dtype=np.uint8))
    assert info.value.message == "the image is 4x4; draw on a canvas of at least 8x8 pixels"
