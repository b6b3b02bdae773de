"""Chain.apply against the command line: the examples of every filter in the registry, on
8-bit grey, RGB and RGBA and 16-bit RGB pictures, on both backends, gives the same samples as
`tessera process in.png -o out.png --chain ...` (or fails alike where the chain cannot run on
the picture)."""

import json

import numpy as np
import pytest

import tessera
from helpers import cli, picture, read_png, write_png

# Odd sizes, small enough for lavapipe.
PICTURES = {
    "grey8": picture(45, 67, 0, np.uint8, 1),
    "rgb8": picture(45, 67, 3, np.uint8, 2),
    "rgba8": picture(45, 67, 4, np.uint8, 3),
    "rgb16": picture(45, 67, 3, np.uint16, 4),
}


def examples(backend: str) -> list[str]:
    """Every example of every filter on the CPU; each filter's first on the GPU, where lavapipe
    (a CPU emulating a GPU) and the device each run of the binary opens make a run slow."""
    registry = json.loads(cli("filters", "--json").stdout)
    bare = [f["name"] for f in registry["filters"] if not f["examples"]]
    assert not bare, f"filters without an example: {bare}"
    if backend == "gpu":
        return [f["examples"][0] for f in registry["filters"]]
    return [e for f in registry["filters"] for e in f["examples"]]


def dropped_opaque_alpha(got, want) -> bool:
    """True when `got` has an alpha channel, opaque everywhere, that the file `want` lacks."""
    channels = lambda a: 1 if a.ndim == 2 else a.shape[2]
    return (
        got.ndim == 3
        and channels(got) in (2, 4)
        and channels(want) == channels(got) - 1
        and bool((got[..., -1] == np.iinfo(got.dtype).max).all())
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    for name, img in PICTURES.items():
        write_png(folder / f"{name}.png", img)
    return folder


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_apply_equals_the_command_line_for_every_filter(backend, inputs, tmp_path):
    chains = examples(backend)
    assert len(chains) >= 50
    failures, compared = [], 0
    for n, text in enumerate(chains):
        out = tmp_path / str(n)
        run = cli(
            "process", str(inputs), "-o", f"{out}/{{stem}}.png", "--chain", text,
            "--backend", backend, "-q", "--json", check=False,
        )
        assert run.returncode in (0, 1), f"{text}: {run.stderr}"
        records = {r["input"].rsplit("/", 1)[-1][:-4]: r for r in json.loads(run.stdout)["files"]}
        chain = tessera.Chain(text)
        for name, img in PICTURES.items():
            record = records[name]
            try:
                got = chain.apply(img, backend=backend)
            except tessera.Error as e:
                if record["status"] != "failed" or record["error"] not in str(e):
                    failures.append(f"{text} on {name}: apply raised {e!r}, the CLI: {record}")
                continue
            if record["status"] != "done":
                failures.append(f"{text} on {name}: apply gave {got.shape}, the CLI: {record}")
                continue
            want = read_png(out / f"{name}.png")
            compared += 1
            if dropped_opaque_alpha(got, want):
                # The image writer leaves out an alpha plane that is opaque everywhere
                # (src/media/image.rs); apply hands back the chain's planes as they are.
                got = got[..., :-1] if got.shape[2] > 2 else got[..., 0]
            if got.dtype != want.dtype or got.shape != want.shape:
                failures.append(
                    f"{text} on {name}: {got.dtype}{got.shape} against the CLI's {want.dtype}{want.shape}"
                )
            elif not np.array_equal(got, want):
                diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
                failures.append(f"{text} on {name}: {np.count_nonzero(diff)} samples differ, by up to {diff.max()}")
    assert not failures, f"{len(failures)} differences:\n" + "\n".join(failures)
    assert compared > len(chains) * 3
