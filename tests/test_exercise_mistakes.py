"""Every checker, solved wrongly on purpose: each planted mistake (the reference solution with one line
changed) fails its check with a message that names the mistake. The table covers every `check_*` in
`faceid_lab.exercises`, so a new exercise without a planted mistake fails here."""

import inspect

import pytest

from faceid_lab import exercises, solutions

# checker -> (the functions it takes, in order), then per mistake: (function, old, new), words in the message
MISTAKES = {
    "check_ground_truth_swap": (("ground_truth_swap",), [
        (("ground_truth_swap", "S.sample_identities(seed, [identity_b])", "S.sample_identities(seed, [identity_a])"),
         ("ground_truth_swap", "S.sample_nuisance(seed, [identity_a], [image_a])",
          "S.sample_nuisance(seed, [identity_b], [image_a])"), "A's identity with B's photo"),
    ]),
    "check_random_warp": (("warp_input",), [
        (("warp_input", "grid = identity + field.permute(0, 2, 3, 1)",
          "grid = identity + field.permute(0, 2, 3, 1).flip(-1)"), "x and y are swapped"),
        (("warp_input", "grid = identity + field.permute(0, 2, 3, 1)", "grid = identity"), "the faces must move"),
    ]),
    "check_autoencoder_module": (("OneEncoderTwoDecoders",), [
        (("OneEncoderTwoDecoders", 'return self(x, "B")', 'return self(x, "A")'), "*B's* decoder"),
    ]),
    "check_swap": (("swap_and_paste",), [
        (("swap_and_paste", "m = torch.maximum(mask_b, frame_masks)", "m = mask_b"), "union of both masks"),
        (("swap_and_paste", 'model.decoders["B"]', 'model.decoders["A"]'), "decoder 'B'"),
    ]),
    "check_identity_training_step": (("identity_training_step",), [
        (("identity_training_step", "net.logits(net.features(images), labels)", "net.logits(net.features(images))"),
         "pass the labels"),
    ]),
    "check_verification_auc": (("cosine_similarity", "verification_auc"), [
        (("cosine_similarity", "return unit_a @ unit_b.T", "return a @ b.T"), "dot product"),
        (("verification_auc", "wins = below.double().sum() + 0.5 * ties.double().sum()",
          "wins = below.double().sum()"), "count ties as half"),
    ]),
    "check_guided_block": (("GuidedUpBlock",), [
        (("GuidedUpBlock", "* (1 + scale)", "* scale"), "differs from UpBlock's"),
    ]),
    "check_began_d_loss": (("began_d_loss",), [
        (("began_d_loss", "fake = fake.detach()", "fake = fake"), "detach G's faces"),
        (("began_d_loss", "torch.clamp(k + lambda_k * balance, 0.0, 1.0)", "k + lambda_k * balance"),
         "clip it to [0, 1]"),
        (("began_d_loss", "loss_d = r_real - k * r_fake", "loss_d = r_real + k * r_fake"), "do not add it"),
    ]),
    "check_n_class_c_loss": (("n_class_c_loss",), [
        (("n_class_c_loss", "C(fake.detach())", "C(fake)"), "detach G's faces"),
        (("n_class_c_loss", "loss_real + synth_weight * loss_fake", "loss_real + loss_fake"), "synth_weight"),
        (("n_class_c_loss", "C.logits(C(real))", "C.logits(C(real), real_labels)"), "margin"),
    ]),
    "check_identity_loss": (("identity_loss",), [
        (("identity_loss", "    with torch.no_grad():\n        f_source = C(sources)", "    f_source = C(sources)"),
         "fixed target"),
        (("identity_loss", "return (1 - similarity).mean()", "return similarity.mean()"), "1 - cosine"),
    ]),
    "check_two_n_labels": (("two_n_labels",), [
        (("two_n_labels", "labels + num_identities * synthesized.long()", "labels + synthesized.long()"), "add N"),
        (("two_n_labels", "labels + num_identities * synthesized.long()",
          "labels + num_identities * (~synthesized).long()"), "the other way round"),
    ]),
    "check_classifier_loss": (("classifier_loss",), [
        (("classifier_loss", "synth_weight * F.cross_entropy(logits_fake, labels_fake)",
          "F.cross_entropy(logits_fake, labels_fake)"), "weight the synthesized term"),
    ]),
    "check_faceid_step": (("faceid_step",), [
        (("faceid_step", "labels + N))", "labels))"), "uses the N labels"),
        (("faceid_step", "both = torch.cat([real, fake.detach()])", "both = torch.cat([real, fake])"),
         "D's loss ran backward through G"),
    ]),
    "check_centroid_distances": (("centroid_distances",), [
        (("centroid_distances", "features[mine & ~synthesized].mean(0)", "features[~synthesized].mean(0)"),
         "same person's real centroid"),
    ]),
    "check_frontalize": (("frontalize",), [
        (("frontalize", "f_pose = frontal.expand(len(photos), -1)", "f_pose = torch.zeros(len(photos), 7)"),
         "f_pose = 0"),
        (("frontalize", "return G(f_id, f_pose, z)", "return G(f_id, f_pose, torch.zeros_like(z))"), "noise z"),
    ]),
    "check_synthesized_score": (("synthesized_score",), [
        (("synthesized_score", "return log_synthesized - log_real", "return log_real - log_synthesized"),
         "the other way round"),
        (("synthesized_score", "return log_synthesized - log_real", "return log_synthesized.exp()"),
         "log-odds"),
    ]),
}


def _with_mistake(name: str, edits: list[tuple[str, str]]):
    """The reference `name` from faceid_lab.solutions with each `old` replaced by its `new` (each must occur)."""
    source = inspect.getsource(getattr(solutions, name))
    for old, new in edits:
        assert old in source, (name, old)
        source = source.replace(old, new)
    namespace = dict(vars(solutions))  # the solutions' imports: torch, F, nn, S, Encoder, Decoder
    exec(source, namespace)  # noqa: S102 - the repository's own reference, edited
    return namespace[name]


def _cases():
    for checker, (names, mistakes) in MISTAKES.items():
        for k, (*edits, words) in enumerate(mistakes):
            yield pytest.param(checker, names, edits, words, id=f"{checker}-{k}")


@pytest.mark.parametrize(("checker", "names", "edits", "words"), list(_cases()))
def test_a_planted_mistake_is_named(checker, names, edits, words):
    functions = {name: getattr(solutions, name) for name in names}
    for name in {edit[0] for edit in edits}:
        functions[name] = _with_mistake(name, [(old, new) for n, old, new in edits if n == name])
    result = getattr(exercises, checker)(*functions.values())
    assert not result.passed and words in result.message, result.message


@pytest.mark.parametrize("checker", list(MISTAKES))
def test_the_reference_passes(checker):
    names, _ = MISTAKES[checker]
    result = getattr(exercises, checker)(*(getattr(solutions, n) for n in names))
    assert result.passed, result


def test_every_checker_has_planted_mistakes():
    checkers = {n for n, f in inspect.getmembers(exercises, inspect.isfunction) if n.startswith("check_")}
    assert checkers == set(MISTAKES)
