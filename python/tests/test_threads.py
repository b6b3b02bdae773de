"""The GIL is released while a chain runs, and one Chain serves several threads at once."""

import threading
import time

import numpy as np
import pytest

import tessera
from helpers import picture


def test_the_gil_is_released_during_apply():
    img = picture(1200, 1600, 3, np.uint8)
    chain = tessera.Chain("gblur(sigma=6) | median(3) | unsharp(amount=1.5)")
    stamps: list[float] = []
    stop = threading.Event()

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 2000 == 0:
                stamps.append(time.perf_counter())

    counter = threading.Thread(target=count)
    counter.start()
    try:
        time.sleep(0.05)
        start = time.perf_counter()
        chain.apply(img, backend="cpu")
        end = time.perf_counter()
    finally:
        stop.set()
        counter.join()
    assert end - start > 0.3, f"the call took only {end - start:.3f} s; make it longer"
    # A thread holding the GIL can be pre-empted for at most a switch interval (5 ms) before
    # the call starts; the counter ran well inside the call only if the call let go of it.
    inside = [t for t in stamps if start + 0.1 < t < end - 0.05]
    assert len(inside) > 10, f"{len(inside)} counts inside a {end - start:.2f} s call"


def _on_threads(chain, images, **options) -> dict[int, np.ndarray]:
    """`chain` applied three times to each image, each image on a Python thread of its own, all
    at once; the last result of each."""
    got: dict[int, np.ndarray] = {}

    def run(i):
        for _ in range(3):
            got[i] = chain.apply(images[i], "cpu", **options)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_one_chain_serves_several_threads():
    chain = tessera.Chain("gblur(sigma=2) | scale(width=50) | eq(saturation=1.3)")
    images = [picture(60 + i, 80 + i, 3, np.uint8, i) for i in range(6)]
    want = [chain.apply(img, "cpu") for img in images]
    got = _on_threads(chain, images)
    for i, w in enumerate(want):
        assert np.array_equal(got[i], w)


def _call_threads() -> list[str]:
    """Names of this process's threads that run calls' own pools (`threads=n`)."""
    import os

    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return [n for n in names if n.startswith("tessera-call")]


def test_threads_one_gives_the_same_pictures_on_a_pool_of_its_own():
    chain = tessera.Chain("gblur(sigma=3) | unsharp(amount=0.8)")
    images = [picture(70 + 3 * i, 90 + i, 3 + i % 2, np.uint8, i) for i in range(4)]
    want = [chain.apply(img, "cpu") for img in images]
    got = _on_threads(chain, images, threads=1)
    for i, w in enumerate(want):
        assert np.array_equal(got[i], w)
    # The calls ran on pools of their own, kept for later calls.
    assert "tessera-call-0" in _call_threads()
    two = chain.apply(images[0], "cpu", threads=2)
    assert np.array_equal(two, want[0])
    assert "tessera-call-1" in _call_threads()


def test_threads_zero_is_refused():
    chain = tessera.Chain("invert")
    with pytest.raises(ValueError, match="threads=0"):
        chain.apply(picture(8, 8, 3, np.uint8), "cpu", threads=0)
