"""One place names the repository and ref; every badge and install line agrees with it."""

import shutil

import pytest

from faceid_lab import source
from faceid_lab.errors import ConfigError


def test_every_link_points_at_the_one_source_and_it_is_a_release_tag():
    assert source.mismatches() == []
    assert source.REF.startswith("v") and source.REF[1:].replace(".", "").isdigit(), \
        "the default must be a release tag, not a moving branch"
    assert source.pip_spec() == f"faceid-lab @ git+https://github.com/{source.REPOSITORY}@{source.REF}"


@pytest.fixture
def copy_of_repo(tmp_path):
    root = tmp_path / "repo"
    (root / "notebooks" / "exercises").mkdir(parents=True)
    (root / "faceid_lab").mkdir()
    for nb in ("00_setup_and_data.ipynb", "07_umap_identity_clusters.ipynb"):
        shutil.copy(source.ROOT / "notebooks" / nb, root / "notebooks" / nb)
        shutil.copy(source.ROOT / "notebooks" / "exercises" / nb, root / "notebooks" / "exercises" / nb)
    shutil.copy(source.ROOT / "README.md", root / "README.md")
    shutil.copy(source.ROOT / "faceid_lab" / "source.py", root / "faceid_lab" / "source.py")
    return root


def test_retarget_rewrites_badges_install_lines_and_the_source_itself(copy_of_repo):
    root = copy_of_repo
    changed = source.retarget("someone/fork", "classroom-2027", root=root)
    assert root / "faceid_lab" / "source.py" in changed
    assert source.mismatches(root, "someone/fork", "classroom-2027") == []
    assert len(source.mismatches(root)) >= 8  # against the original: every link moved (2 notebooks x 2 x 2)
    text = (root / "notebooks" / "00_setup_and_data.ipynb").read_text()
    assert "colab.research.google.com/github/someone/fork/blob/classroom-2027/notebooks/00_setup_and_data.ipynb" in text
    assert 'faceid-lab @ git+https://github.com/someone/fork@classroom-2027\\"' in text
    student = (root / "notebooks" / "exercises" / "00_setup_and_data.ipynb").read_text()
    assert "blob/classroom-2027/notebooks/exercises/00_setup_and_data.ipynb" in student
    code = (root / "faceid_lab" / "source.py").read_text()
    assert 'REPOSITORY = "someone/fork"' in code and 'REF = "classroom-2027"' in code
    assert source.retarget("someone/fork", "classroom-2027", root=root) == []  # idempotent


def test_a_planted_stale_link_is_found(copy_of_repo):
    path = copy_of_repo / "notebooks" / "07_umap_identity_clusters.ipynb"
    path.write_text(path.read_text().replace(f"@{source.REF}", "", 1))
    [wrong] = source.mismatches(copy_of_repo)
    assert "07_umap_identity_clusters.ipynb: pip install from faceid-lab/faceid-lab@(no ref)" in wrong


@pytest.mark.parametrize("repository, ref", [("not a repo", "v1"), ("a/b", "bad ref"), ("a/b", "../x")])
def test_retarget_refuses_what_is_not_a_repository_or_ref(copy_of_repo, repository, ref):
    with pytest.raises(ConfigError):
        source.retarget(repository, ref, root=copy_of_repo)
