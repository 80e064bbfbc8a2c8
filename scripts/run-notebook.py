#!/usr/bin/env python3
"""Executes notebooks-export/analysis.ipynb against a campaign export, as `make test` does.

    .venv-checks/bin/python scripts/run-notebook.py DIR               # DIR: slotsim run FILE --out DIR
    .venv-checks/bin/python scripts/run-notebook.py DIR --keep OUT.ipynb

The notebook runs with nbclient in a kernel of the Python that runs this script (whatever
kernels Jupyter has installed elsewhere), in the notebook's folder, with SLOTSIM_EXPORT set to
DIR and SLOTSIM_FIGURES to a temporary folder (so saving figures is exercised too), and at
most 300 s per cell. The executed notebook goes to a temporary file (or OUT.ipynb with
--keep), never over the source.

Exit status: 0 if every cell ran, 1 if one raised (the cell is named, with the error),
2 if DIR is not a campaign export or nbclient, nbformat or ipykernel is missing:
    python3 -m venv .venv-checks && .venv-checks/bin/pip install -r notebooks-export/requirements.txt
"""

import argparse
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks-export" / "analysis.ipynb"
CELL_TIMEOUT_SECONDS = 300
KERNEL_NAME = "slotsim-notebook"
INSTALL = "python3 -m venv .venv-checks && .venv-checks/bin/pip install -r notebooks-export/requirements.txt"

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    import ipykernel.kernelspec
except ImportError as error:
    print(f"run-notebook: {error.name} is not installed; run with a Python that has the notebook's packages:", file=sys.stderr)
    print(f"    {INSTALL}", file=sys.stderr)
    print("    .venv-checks/bin/python scripts/run-notebook.py DIR", file=sys.stderr)
    sys.exit(2)


def cell_label(nb, index):
    """`cell N of M (first line of its source)`, counting every cell (markdown too) from 1."""
    source = nb.cells[index].source.strip().splitlines()
    first = source[0] if source else ""
    return f"cell {index + 1} of {len(nb.cells)} ({first[:70]!r})"


def kernel_manager(kernels_dir):
    """A kernel manager whose only kernel runs ipykernel with this script's Python."""
    ipykernel.kernelspec.write_kernel_spec(
        path=str(kernels_dir / KERNEL_NAME),
        overrides={"display_name": f"Python ({sys.executable})"})
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)], ensure_native_kernel=False)
    options = {}
    if "transport_encryption" in KernelManager.class_trait_names():
        options["transport_encryption"] = "auto"  # CurveZMQ where available (else ipykernel warns)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, **options)


def main():
    parser = argparse.ArgumentParser(description="Execute notebooks-export/analysis.ipynb against a campaign export.")
    parser.add_argument("export_dir", type=pathlib.Path, help="a folder written by `slotsim run FILE --out DIR`")
    parser.add_argument("--keep", type=pathlib.Path, help="write the executed notebook here (default: a temporary file)")
    args = parser.parse_args()

    export_dir = args.export_dir.resolve()
    missing = [name for name in ("campaign.csv", "summary.csv", "manifest.json") if not (export_dir / name).is_file()]
    if missing:
        print(f"run-notebook: {export_dir} is not a campaign export (missing {', '.join(missing)})", file=sys.stderr)
        sys.exit(2)
    if args.keep and args.keep.resolve() == NOTEBOOK:
        print("run-notebook: --keep must not name the source notebook", file=sys.stderr)
        sys.exit(2)

    work = pathlib.Path(tempfile.mkdtemp(prefix="slotsim-notebook-"))
    output = args.keep.resolve() if args.keep else work / "analysis.executed.ipynb"
    figures = work / "figures"
    # The kernel inherits this process's environment.
    os.environ["SLOTSIM_EXPORT"] = str(export_dir)
    os.environ["SLOTSIM_FIGURES"] = str(figures)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        km=kernel_manager(work / "kernels"),
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # the kernel's working folder
    )
    started = time.monotonic()
    failed, details = None, ""
    try:
        client.execute(cleanup_kc=True)  # shut the kernel down afterwards, though we made its manager
    except CellExecutionError as error:
        failed = f"{error.ename}: {error.evalue}"
        details = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the cell and its traceback, without colours
    except CellTimeoutError:
        failed = f"no result within {CELL_TIMEOUT_SECONDS} s"
    except DeadKernelError as error:
        failed = f"the kernel died: {error}"
    finally:
        nbformat.write(nb, output)

    if failed is not None:
        # The failing cell is the last one with an execution count or an error output.
        index = next((i for i in reversed(range(len(nb.cells))) if nb.cells[i].cell_type == "code"
                      and (any(o.get("output_type") == "error" for o in nb.cells[i].get("outputs", []))
                           or nb.cells[i].get("execution_count") is not None)), None)
        where = cell_label(nb, index) if index is not None else "a cell"
        if details:
            print(details, file=sys.stderr)
        print(f"run-notebook: FAIL {NOTEBOOK.relative_to(REPO)} {where}: {failed}", file=sys.stderr)
        print(f"run-notebook: the executed notebook is {output}", file=sys.stderr)
        shutil.rmtree(work / "kernels", ignore_errors=True)
        sys.exit(1)

    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    images = sum(1 for cell in code_cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
    saved = sorted(p.name for p in figures.glob("*.png")) if figures.is_dir() else []
    print(f"run-notebook: ok   {NOTEBOOK.relative_to(REPO)}: {len(code_cells)} code cells ran against {export_dir} "
          f"in {time.monotonic() - started:.1f} s; {images} figures shown, {len(saved)} saved ({', '.join(saved)})")
    print(f"run-notebook: the executed notebook is {output}")
    # Only the executed notebook stays (and only when it is in the temporary folder).
    shutil.rmtree(figures, ignore_errors=True)
    shutil.rmtree(work / "kernels", ignore_errors=True)
    if args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
