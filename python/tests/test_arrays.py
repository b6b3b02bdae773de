"""numpy arrays in and out: dtypes and shapes kept, sizes changed by the chain, any memory
layout read, and every array that is not a picture refused with a clear exception."""

import numpy as np
import pytest

import tessera
from helpers import picture

SHAPES = [0, 1, 2, 3, 4]  # 0: (H, W); else (H, W, C)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", SHAPES)
def test_dtype_and_shape_are_kept(channels, dtype):
    img = picture(23, 31, channels, dtype)
    before = img.copy()
    out = tessera.Chain("hflip").apply(img, backend="cpu")
    assert out.dtype == img.dtype and out.shape == img.shape
    assert np.array_equal(out, img[:, ::-1])
    assert np.array_equal(img, before), "the input was written to"
    assert out.flags.writeable and out.flags.c_contiguous
    # The result owns its samples: no numpy array beneath it.
    assert not isinstance(out.base, np.ndarray)


def test_size_changing_chains_return_the_new_shape():
    img = picture(45, 67, 3, np.uint8)
    assert tessera.Chain("scale(width=20, height=10)").apply(img, "cpu").shape == (10, 20, 3)
    crop = tessera.Chain("crop(x=3, y=2, width=10, height=5)").apply(img, "cpu")
    assert np.array_equal(crop, img[2:7, 3:13])
    assert tessera.Chain("transpose").apply(img[..., 0], "cpu").shape == (67, 45)


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[:, ::2],
        lambda a: a[::-1],
        lambda a: a[3:40, 5:60],
        lambda a: a.transpose(1, 0, 2),
        lambda a: np.asfortranarray(a),
        lambda a: a[..., :3],
        lambda a: a[..., 1],
        lambda a: a[:, ::-3, 1],
        # Rows packed, channels backwards: RGBA read as ABGR, and OpenCV's BGR seen as RGB.
        lambda a: a[..., ::-1],
        lambda a: np.ascontiguousarray(a[..., :3])[..., ::-1],
        lambda a: np.ascontiguousarray(a[..., :3])[::-1, 7:50, ::-1],
        lambda a: np.ascontiguousarray(a[..., :2])[2:30, 1:, ::-1],
        lambda a: np.ascontiguousarray(a[..., 0])[5:30, 3:50],
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_non_contiguous_arrays_give_what_their_copy_gives(view, dtype):
    chain = tessera.Chain("gblur(sigma=1.5) | eq(contrast=1.2)")
    a = view(picture(45, 67, 4, dtype))
    want = chain.apply(np.ascontiguousarray(a), "cpu")
    assert np.array_equal(chain.apply(a, "cpu"), want)


def test_unaligned_16_bit_samples_are_read():
    raw = np.zeros(45 * 67 * 3 * 2 + 1, np.uint8)
    a = raw[1:].view(np.uint16).reshape(45, 67, 3)
    a[...] = picture(45, 67, 3, np.uint16)
    assert not a.flags.aligned
    chain = tessera.Chain("invert")
    assert np.array_equal(chain.apply(a, "cpu"), chain.apply(a.copy(), "cpu"))


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.zeros(10, np.uint8), ValueError, "not a picture"),
        (np.zeros((2, 3, 4, 5), np.uint8), ValueError, "not a picture"),
        (np.zeros((4, 4, 5), np.uint8), ValueError, "5 channels"),
        (np.zeros((4, 4, 0), np.uint8), ValueError, "0 channels"),
        (np.zeros((0, 4, 3), np.uint8), ValueError, "no pixels"),
        (np.zeros((4, 0), np.uint16), ValueError, "no pixels"),
        (np.zeros((4, 4, 3), np.float64), TypeError, "float64"),
        (np.zeros((4, 4, 3), ">f4"), TypeError, "byte order"),
        (np.zeros((4, 4, 3), np.int32), TypeError, "uint8 or uint16"),
        (np.zeros((4, 4, 3), ">u2"), TypeError, "byte order"),
        (np.zeros((4, 4), bool), TypeError, "uint8 or uint16"),
        ([[1, 2], [3, 4]], TypeError, "numpy array"),
        (None, TypeError, "numpy array"),
    ],
)
def test_bad_arrays_raise_clear_errors(bad, error, words):
    with pytest.raises(error) as caught:
        tessera.Chain("invert").apply(bad, "cpu")
    assert words in str(caught.value)


@pytest.mark.parametrize("channels", SHAPES)
def test_float32_is_uint16_codes_over_65535_exactly(channels):
    codes = picture(23, 31, channels, np.uint16)
    codes.flat[:4] = [0, 1, 65534, 65535]
    values = (codes / 65535).astype(np.float32)
    chain = tessera.Chain("gblur(sigma=1.5) | eq(contrast=1.2, saturation=1.3) | scale(width=20)")
    out = chain.apply(values, "cpu")
    want = chain.apply(codes, "cpu")
    assert out.dtype == np.float32 and out.shape == want.shape
    assert np.array_equal(out, (want / 65535).astype(np.float32))
    # What goes in as a code comes out as it: the mapping loses nothing but what lies between
    # codes.
    assert np.array_equal(tessera.Chain("hflip").apply(values, "cpu"), values[:, ::-1])


def test_float32_values_between_codes_take_the_nearest():
    x = np.array([[0.0, 0.25, 0.5, 1.0, 1e-6, 1 - 1e-6, -1e-6, 1 + 7e-6]], np.float32)
    nearest = np.floor(x.astype(np.float64) * 65535 + 0.5).astype(np.uint16)
    assert nearest.tolist() == [[0, 16384, 32768, 65535, 0, 65535, 0, 65535]]
    out = tessera.Chain("hflip | hflip").apply(x, "cpu")
    assert np.array_equal(out, (nearest / 65535).astype(np.float32))
    assert np.abs(out - x).max() <= 0.5 / 65535 + 1e-7


@pytest.mark.parametrize(
    "value, words",
    [
        (np.nan, "NaN at [2, 3, 1]"),
        (np.inf, "inf at [2, 3, 1]"),
        (255.0, "255 at [2, 3, 1]"),
        (1 + 1e-4, "from 0 to 1"),
        (-1e-4, "from 0 to 1"),
    ],
)
def test_float32_values_without_a_code_are_refused(value, words):
    img = np.full((4, 5, 3), 0.5, np.float32)
    img[2, 3, 1] = value
    with pytest.raises(ValueError) as caught:
        tessera.Chain("invert").apply(img, "cpu")
    assert words in str(caught.value)
    grey = np.zeros((4, 5), np.float32)
    grey[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN at \[1, 2\]"):
        tessera.Chain("invert").apply(grey, "cpu")


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        tessera.Chain("invert").apply(picture(4, 4, 3, np.uint8), backend="tpu")


def test_temporal_filters_start_afresh_at_every_call():
    chain = tessera.Chain("tmix(frames=3)")
    a, b = picture(20, 30, 3, np.uint8, 1), picture(20, 30, 3, np.uint8, 2)
    first = chain.apply(b, "cpu")
    chain.apply(a, "cpu")
    assert np.array_equal(chain.apply(b, "cpu"), first)
