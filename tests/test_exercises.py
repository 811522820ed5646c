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
    namespace: dict = {}
    exec(solution, namespace)  # noqa: S102 - reference code from this repository
    tree = ast.parse(check)
    *body, last = tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "check", "exec"), namespace)  # noqa: S102
    return eval(compile(ast.Expression(last.value), "check", "eval"), namespace)  # noqa: S307


@pytest.mark.parametrize(("solution", "check"), _exercise_pairs())
def test_checker_passes_on_solution_and_fails_on_stub(solution, check):
    passed = _run_check(solution, check)
    assert isinstance(passed, exercises.CheckResult) and passed.passed, passed
    failed = _run_check(make_stub(solution), check)
    assert isinstance(failed, exercises.CheckResult) and not failed.passed
    assert "not implemented yet" in failed.message


def test_every_checker_is_used_by_a_notebook():
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
    result = exercises.check_landmark_visibility(lambda yaw: [])
    assert not result.passed and "hidden landmarks are" in result.message


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


def test_student_notebooks_are_up_to_date():
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

    def normalised(pose_net, image):
        out = pose_net.eval().normalized(image[None])[0]
        return {"yaw": out[0].item(), "pitch": out[1].item(), "roll": out[2].item()}

    result = exercises.check_read_pose(normalised)
    assert not result.passed and "normalised outputs" in result.message


def test_faceid_gan_checkers_give_specific_hints():
    import torch
    import torch.nn.functional as F

    def no_clip(k, r_real, r_fake, gamma, lambda_k):
        return k + lambda_k * (gamma * r_real - r_fake), r_real + abs(gamma * r_real - r_fake)

    result = exercises.check_k_update(no_clip)
    assert not result.passed and "clip it to [0, 1]" in result.message
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
