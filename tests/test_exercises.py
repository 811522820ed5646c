"""Every checker fails on the stub and passes on the solution; student notebooks are current."""

import ast
import inspect

import nbformat
import pytest

from faceid_lab import exercises
from faceid_lab.notebooks import ExerciseError, build_exercises, make_stub, reference_notebooks


def _exercise_pairs():
    """(notebook, solution source, check source) for every solution cell and the check after it."""
    pairs = []
    for path in reference_notebooks():
        cells = nbformat.read(path, as_version=4).cells
        for k, cell in enumerate(cells):
            if "solution" in cell.metadata.get("tags", []):
                check = next(c for c in cells[k + 1:] if "check" in c.metadata.get("tags", []))
                pairs.append(pytest.param(cell.source, check.source, id=f"{path.stem}-cell{k}"))
    return pairs


def _run_check(solution: str, check: str):
    """The CheckResult of a check cell (`f = exercises.checked(exercises.check_f, f)`) on `solution`."""
    namespace: dict = {}
    exec(solution, namespace)  # noqa: S102 - reference code from this repository
    tree = ast.parse(check)
    *body, last = tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "check", "exec"), namespace)  # noqa: S102
    call = last.value
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "exercises.checked", ast.unparse(last)
    checker = ast.Call(func=call.args[0], args=call.args[1:], keywords=[])
    return eval(compile(ast.fix_missing_locations(ast.Expression(checker)), "check", "eval"), namespace)  # noqa: S307


@pytest.mark.parametrize(("solution", "check"), _exercise_pairs())
def test_checker_passes_on_solution_and_fails_on_stub(solution, check):
    passed = _run_check(solution, check)
    assert isinstance(passed, exercises.CheckResult) and passed.passed, passed
    failed = _run_check(make_stub(solution), check)
    assert isinstance(failed, exercises.CheckResult) and not failed.passed
    assert "not implemented yet" in failed.message


def test_reference_solutions_pass_every_checker():
    """faceid_lab.solutions, the fallback of a skipped exercise, passes the check it stands in for."""
    from faceid_lab import solutions

    for param in _exercise_pairs():
        check = ast.parse(param.values[1]).body[-1].value
        checker = getattr(exercises, check.args[0].attr)
        result = checker(*(getattr(solutions, a.id) for a in check.args[1:]))
        assert result.passed, (param.id, result)


def test_a_failing_exercise_falls_back_to_the_reference_with_a_warning(capsys):
    from faceid_lab import solutions

    def two_n_labels(labels, synthesized, num_identities):
        raise NotImplementedError("a stub")

    used = exercises.checked(exercises.check_two_n_labels, two_n_labels)
    assert used is solutions.two_n_labels
    out = capsys.readouterr().out
    assert "NOT YET" in out and "the cells below use the reference two_n_labels" in out

    def right(labels, synthesized, num_identities):
        return labels + num_identities * synthesized.long()

    right.__name__ = "two_n_labels"
    assert exercises.checked(exercises.check_two_n_labels, right) is right

    def verification_auc(features, labels):
        return 0.5

    used = exercises.checked(exercises.check_verification_auc, solutions.cosine_similarity, verification_auc)
    assert used == (solutions.cosine_similarity, solutions.verification_auc)


def test_a_renamed_exercise_gets_a_one_line_error():
    def my_labels(labels, synthesized, num_identities):
        raise NotImplementedError

    with pytest.raises(ValueError, match="faceid-lab: no reference solution named my_labels"):
        exercises.checked(exercises.check_two_n_labels, my_labels)


def test_student_version_hides_the_reference_and_hints_do_not_give_it_away():
    from faceid_lab.notebooks import student_version

    for path in reference_notebooks():
        nb = nbformat.read(path, as_version=4)
        student = student_version(nb, path.name)
        for k, cell in enumerate(student.cells):
            if "exercise" not in cell.metadata.get("tags", []):
                continue
            reference = student.cells[k + 1]
            assert "reference" in reference.metadata.get("tags", []) and reference.source.startswith("<details>")
            body = [ln.strip() for ln in reference.source.split("```python", 1)[1].splitlines()
                    if ln.strip() and not ln.strip().startswith(("def ", '"""', "#", "import ", "from ", "@"))]
            hints = " ".join(ln.split("HINT:", 1)[1] for ln in cell.source.splitlines() if "HINT:" in ln)
            hints += " ".join(ln for ln in cell.source.splitlines() if "NotImplementedError(" in ln)
            for line in body:  # no line of the solution's code appears verbatim in a hint
                assert len(line) < 25 or line not in hints, (path.name, line)
    checkers = {n for n, f in inspect.getmembers(exercises, inspect.isfunction) if n.startswith("check_")}
    used = {name for p in _exercise_pairs() for name in checkers if name in p.values[1]}
    assert checkers == used


def test_checkers_give_specific_hints_for_wrong_answers():
    from faceid_lab.data import synthetic as S

    def swapped_roles(seed, identity_b, identity_a, image_a, resolution=64):
        return S.render(S.sample_identities(seed, [identity_a]),
                        S.sample_nuisance(seed, [identity_b], [image_a]), resolution).image[0]

    result = exercises.check_ground_truth_swap(swapped_roles)
    assert not result.passed and "A's identity with B's photo" in result.message


def test_stub_keeps_signature_docstring_and_hint():
    source = 'import torch\n\n\ndef f(x, y=2):\n    """Doc."""\n    # HINT: add them.\n    return x + y\n'
    stub = make_stub(source)
    namespace: dict = {}
    exec(stub, namespace)  # noqa: S102
    assert namespace["f"].__doc__ == "Doc."
    with pytest.raises(NotImplementedError, match="add them"):
        namespace["f"](1)


def test_solution_cells_must_hold_only_imports_and_functions():
    with pytest.raises(ExerciseError, match="line 2 is neither an import nor a function"):
        make_stub("import torch\nx = 3\n", "nb cell 4")


def test_student_notebooks_and_solutions_are_up_to_date():
    assert build_exercises(write=False) == [], "run `faceid-lab exercises build`"


def test_identity_and_pose_checkers_give_specific_hints():
    import torch.nn.functional as F

    result = exercises.check_verification_auc(lambda a, b: a @ b.T, lambda f, y: 0.5)
    assert not result.passed and "dot product" in result.message

    def no_labels(net, opt, images, labels):
        loss = F.cross_entropy(net.logits(net.features(images)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    result = exercises.check_identity_training_step(no_labels)
    assert not result.passed and "pass the labels" in result.message



def test_faceid_gan_checkers_give_specific_hints():
    import torch
    import torch.nn.functional as F

    result = exercises.check_two_n_labels(lambda labels, synthesized, n: labels + n * (~synthesized).long())
    assert not result.passed and "the other way round" in result.message
    result = exercises.check_two_n_labels(lambda labels, synthesized, n: labels + synthesized.long())
    assert not result.passed and "add N" in result.message
    result = exercises.check_classifier_loss(
        lambda lr, yr, lf, yf, w: F.cross_entropy(lr, yr) + F.cross_entropy(lf, yf))
    assert not result.passed and "weight the synthesized term" in result.message

    def both_move(C, sources, outputs):
        return (1 - F.cosine_similarity(C.features(sources), C.features(outputs), dim=1)).mean()

    result = exercises.check_identity_loss(both_move)
    assert not result.passed and "fixed target" in result.message

    def similarity(C, sources, outputs):
        with torch.no_grad():
            f = C.features(sources)
        return F.cosine_similarity(f, C.features(outputs), dim=1).mean()

    result = exercises.check_identity_loss(similarity)
    assert not result.passed and "1 - cosine" in result.message
