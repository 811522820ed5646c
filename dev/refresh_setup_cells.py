"""Re-run only the set-up cell (cell 1) of every reference notebook and store its output.

    FACEID_LAB_PROFILE=cpu python dev/refresh_setup_cells.py

For a change to the set-up cell alone (its banner and this machine's plan), without re-running
every notebook: the other cells' committed outputs stay as they were.
"""
import os

import nbformat
from nbclient import NotebookClient

from faceid_lab.notebooks import NOTEBOOKS, reference_notebooks

os.environ["FACEID_LAB_HEADLESS"] = "1"
for path in reference_notebooks():
    nb = nbformat.read(path, as_version=4)
    one = nbformat.v4.new_notebook(cells=[nb.cells[1]], metadata=nb.metadata)
    client = NotebookClient(one, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    with client.setup_kernel():
        client.execute_cell(one.cells[0], 0)
    one.cells[0].metadata.pop("execution", None)
    nb.cells[1].outputs = one.cells[0].outputs
    nbformat.write(nb, path)
    print(path.name, "".join(o.get("text", "") for o in nb.cells[1].outputs).strip().replace("\n", " | "))
