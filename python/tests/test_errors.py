"""Errors: chain errors point at their place as the command line does; each kind of failure
has its class; help() says how to use the package."""

import pydoc

import numpy as np
import pytest

import tessera
from helpers import cli, picture


def test_an_unknown_filter_is_a_chain_error_with_its_place_and_a_hint():
    with pytest.raises(tessera.ChainError) as caught:
        tessera.Chain("invert | gblr(sigma=2)")
    e = caught.value
    assert isinstance(e, tessera.Error)
    assert (e.line, e.column) == (1, 10)
    assert e.hint == "did you mean `gblur`?"
    assert e.message == "unknown filter `gblr`"
    assert e.errors == 1
    # The caret text, as the command line prints it.
    check = cli("check", "--chain", "invert | gblr(sigma=2)", check=False)
    assert check.returncode == 2
    assert str(e) == check.stderr.strip()
    assert "^^^^" in str(e)


def test_the_place_of_an_error_on_a_later_line():
    text = "invert\n# soften\n  gblr(2)"
    with pytest.raises(tessera.ChainError) as caught:
        tessera.Chain(text)
    assert (caught.value.line, caught.value.column) == (3, 3)


def test_a_parameter_out_of_range_and_several_errors():
    with pytest.raises(tessera.ChainError) as caught:
        tessera.Chain("gblur(sigma=-3) | nosuch")
    e = caught.value
    assert e.errors == 2 and str(e).endswith("2 errors")
    assert e.line == 1 and e.column > 1


def test_a_chain_that_cannot_run_on_the_picture_is_a_chain_error():
    chain = tessera.Chain("crop(x=0, y=0, width=500, height=500)")
    with pytest.raises(tessera.ChainError) as caught:
        chain.apply(picture(20, 30, 3, np.uint8), "cpu")
    assert caught.value.line == 1 and caught.value.column == 1
    assert "crop" in str(caught.value)


def test_a_missing_file_is_a_media_error(tmp_path):
    with pytest.raises(tessera.MediaError) as caught:
        tessera.process(tmp_path / "missing.png", tmp_path / "out.png", "invert")
    assert "missing.png" in str(caught.value)
    assert not (tmp_path / "out.png").exists()


def test_help_documents_the_chain():
    text = pydoc.render_doc(tessera.Chain)
    for words in ["Chain(text)", "apply", "backend", "uint16", "float32", "ChainError", "threads"]:
        assert words in text, words
    assert "Runs a filter chain" in pydoc.render_doc(tessera.process)
    assert tessera.ChainError.__doc__ and "caret" in tessera.ChainError.__doc__
