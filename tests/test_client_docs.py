"""docs/clients.md lists exactly the rows of the client matrix the end-to-end tests run."""

import re
from pathlib import Path

from tests.e2e.client_matrix import MATRIX

DOC = Path(__file__).resolve().parent.parent / "docs" / "clients.md"


def documented_rows():
    text = DOC.read_text()
    table = re.search(r"<!-- matrix:.*?-->\n(.*?)<!-- end of matrix -->", text, re.DOTALL)
    assert table, "docs/clients.md has no matrix table"
    rows = []
    for line in table.group(1).splitlines()[2:]:  # past the header and its rule
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[1]))
    return rows


def test_the_documented_matrix_is_the_tested_one():
    tested = [(row.client, row.version) for row in MATRIX]
    documented = documented_rows()
    missing = [f"| {client} | {version} | … |" for client, version in tested
               if (client, version) not in documented]
    untested = [f"| {client} | {version} |" for client, version in documented
                if (client, version) not in tested]
    assert not missing and not untested, (
        "docs/clients.md's matrix and tests/e2e/client_matrix.py differ:\n"
        f"rows to add to the page: {missing}\nrows the tests do not run: {untested}")
    assert documented == tested, "the page lists the rows in another order than the matrix"


def test_every_row_is_named_once():
    ids = [row.id for row in MATRIX]
    assert len(ids) == len(set(ids))
