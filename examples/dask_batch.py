"""A folder of photos and clips graded on a Dask cluster, tessera in each worker.

    python examples/dask_batch.py photos 'graded/{stem}.{ext}' 'eq(saturation=1.2)' --workers 4
    python examples/dask_batch.py /data/photos '/data/graded/{dir}/{stem}.webp' look.chain \\
        --scheduler tcp://scheduler:8786 --recursive --report run.json

The batch is cut into shares as ``tessera process --shard K/N`` cuts it: a file's share comes
from a hash of its path below the folder, so every task, each expanding the folder itself, takes
a disjoint share and together they take every file once. Each task calls
``tessera.process_batch(..., shard=(K, N))`` on its worker, which names the outputs exactly as
the command line names them from the same template, and returns its report; the reports are
gathered into one of the same shape (``--report``'s, docs/batch.md). With ``{index}`` in the
template, the index counts within a share, as it does with ``--shard``.

The chain goes to the workers as a ``tessera.Chain`` (pickled as its text, parsed and checked
once here so that a bad chain stops the run before any work). Workers read the inputs and write
the outputs at the paths given, so on a cluster of several machines the folder and the outputs
must be on storage every worker sees. ``--skip-existing`` finishes a run that was stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import tessera


def grade_share(share: int, shares: int, folder: str, template: str, chain: tessera.Chain,
                options: dict) -> dict:
    """One task: share `share` of `shares`, on the worker that runs it."""
    return tessera.process_batch(folder, template, chain, shard=(share, shares), **options)


def gather(reports: list[dict], chain: str, seconds: float) -> dict:
    """The shares' reports as one, as a run without shards reports: counts added up, every
    file's record, in the order of the inputs."""
    files = sorted((f for r in reports for f in r["files"]), key=lambda f: f["input"])
    counts = ("processed", "skipped", "failed", "interrupted", "not_started")
    return {
        "schema": 1,
        "chain": chain,
        **{c: sum(r[c] for r in reports) for c in counts},
        "seconds": seconds,
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="the photos and clips to grade")
    parser.add_argument("output", help="an output folder or template, e.g. 'graded/{stem}.webp'")
    parser.add_argument("chain", help="chain text, or a chain file")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running cluster's scheduler")
    where.add_argument("--workers", type=int, default=2,
                       help="worker processes of a cluster started here (default 2)")
    parser.add_argument("--shares", type=int,
                        help="tasks the batch is cut into (default: 4 per worker)")
    parser.add_argument("--backend", default="auto", choices=["auto", "cpu", "gpu"])
    parser.add_argument("-j", "--jobs", type=int, default=1, help="files at once in each task")
    parser.add_argument("-r", "--recursive", action="store_true")
    parser.add_argument("--skip-existing", action="store_true")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--report", metavar="FILE", help="write the gathered report here")
    args = parser.parse_args(argv)

    from dask.distributed import Client, LocalCluster, as_completed

    text = open(args.chain).read() if os.path.isfile(args.chain) else args.chain
    chain = tessera.Chain(text)
    options = {"backend": args.backend, "jobs": args.jobs, "recursive": args.recursive,
               "skip_existing": args.skip_existing, "overwrite": args.overwrite}

    started = time.perf_counter()
    if args.scheduler:
        client, cluster = Client(args.scheduler), None
    else:
        # One thread a worker: tessera runs its own threads inside each task.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        workers = len(client.scheduler_info()["workers"]) or 1
        shares = args.shares or 4 * workers
        tasks = client.map(grade_share, range(1, shares + 1), shares=shares,
                           folder=args.folder, template=args.output, chain=chain,
                           options=options, pure=False)
        reports = []
        for task in as_completed(tasks):
            report = task.result()
            reports.append(report)
            print(f"share {report['shard']}: {report['processed']} processed, "
                  f"{report['skipped']} skipped, {report['failed']} failed", file=sys.stderr)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    report = gather(reports, chain.resolved, time.perf_counter() - started)
    for f in report["files"]:
        if f["status"] == "failed":
            print(f"failed: {f['input']}: {f['error']}", file=sys.stderr)
    print(f"{report['processed']} processed, {report['skipped']} skipped, "
          f"{report['failed']} failed in {report['seconds']:.2f} s", file=sys.stderr)
    if args.report:
        with open(args.report, "w") as out:
            json.dump(report, out, indent=2)
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
