"""Concept questions: each notebook ends with a few, answered by letter and checked here.

The questions live in this module (QUESTIONS), so the notebook's markdown cell and the answer key
cannot drift apart: `questions_markdown(notebook)` writes the cell (a test compares it with the
notebook), and `check_answers(notebook, answers)` marks the learner's letters. A wrong letter gets
the explanation of why that choice is wrong, a right one the reason it is right; an unanswered one
(None, as in the student notebook) is listed as open, never as wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LETTERS = "abcd"


@dataclass(frozen=True)
class Question:
    text: str                       # markdown, may hold $LaTeX$
    choices: tuple[str, ...]        # (a), (b), ... in this order
    answer: str                     # the right letter
    why: str                        # shown when the answer is right
    wrong: dict[str, str] = field(default_factory=dict)  # letter -> why that choice is wrong

    def __post_init__(self):
        letters = set(LETTERS[:len(self.choices)])
        if self.answer not in letters or set(self.wrong) != letters - {self.answer}:
            raise ValueError(f"question {self.text[:40]!r}: answer {self.answer!r} and an explanation for "
                             f"each other letter of {sorted(letters)}")


QUESTIONS: dict[str, tuple[Question, ...]] = {
    "01_deepfake_autoencoder": (
        Question(
            "In training, the input face is bent by a random smooth warp, but the target is the straight face. Why?",
            ("To show the model more head turns, so that the swap works at larger yaws.",
             "To make the decoders paint sharper faces.",
             "Without it the autoencoder can learn to copy pixels; to undo a bend it has never seen, it must know "
             "what faces look like."),
            "c",
            "The warp turns copying into a harder task: rebuild a straight face from a bent one, which needs a "
            "model of faces.",
            {"a": "The warp is a small local bend, not a head turn; the head turns come from the footage itself.",
             "b": "A warp sharpens nothing; its job is to stop the network from copying its input."},
        ),
        Question(
            "Pasted back into A's frame, some swaps are still taken for A by the judge. What explains most of this?",
            ("The swap replaces only the aligned crop: A's hair, head outline and neck stay, and the judge reads "
             "hair as identity.",
             "Decoder B never learnt B's face, so it paints A.",
             "The judge was trained on A and B and prefers A."),
            "a",
            "This is the method's identity leakage: everything of A outside the crop survives the swap.",
            {"b": "In the crops, decoder B does paint B's skin, eyes and lips; the leak is outside the crop.",
             "c": "The judge never saw A or B: it was trained on a world of its own people."},
        ),
        Question(
            "Colour matching moves the swap's colours to A's frame, to hide a change of light. What does it do to "
            "the judge's verdict?",
            ("Nothing: colour is lighting, and an identity network ignores it.",
             "The judge finds A more often: matching also turns B's skin tone into A's, and colour is identity too.",
             "The judge finds B more often, because the seam disappears."),
            "b",
            "Skin and hair colour are part of who a SynthFaces person is, so moving them to A's moves the face "
            "towards A.",
            {"a": "SynthFaces people differ most in hair and skin; the judge reads colour as identity.",
             "c": "The raw paste, seam and all, is found as B at least as often: the seam is not what the judge "
                  "reads."},
        ),
    ),
    "02_identity_features": (
        Question(
            "Why does every identity number in the course come from a judge that no model ever trains against?",
            ("The judge is a larger network, so it is more accurate.",
             "Training against the judge would be too slow.",
             "The judge has its own people, and that alone makes it fair.",
             "A generator can fool the network it trains against without making the face look more like the person."),
            "d",
            "Adversarial examples please one network without changing the person; a network never used as a "
            "training signal still measures honestly.",
            {"a": "Size is not the point: a network G trains against can be fooled however accurate it is.",
             "b": "Speed has nothing to do with it; the issue is that the measure would stop measuring.",
             "c": "Its own people help, but the key is that no training objective ever sees it."},
        ),
        Question(
            "Verification ROC AUC is measured on people the identity network never saw. Why not on its training "
            "people?",
            ("The classifier head is thrown away: the feature is only useful if new people still land in their own "
             "small regions of the sphere.",
             "The training people have too few photos to draw a ROC curve.",
             "On training people the AUC is always exactly one, so it cannot be computed."),
            "a",
            "Verification of strangers is the job; on training people the network could score well from memory of "
            "its N classes.",
            {"b": "The training people have plenty of photos; the problem is what the number would measure.",
             "c": "It need not be exactly one; it would measure memory of the training people, not how the feature "
                  "generalises."},
        ),
        Question(
            "The config cell offers an additive cosine margin in the classification head (CosFace / ArcFace "
            "family). What does it change?",
            ("It normalises the features to unit length, which plain softmax does not.",
             "It lets the classifier head be kept at test time for unseen people.",
             "The true class's cosine must beat the others by a margin, so each person's features gather in a "
             "tighter cluster."),
            "c",
            "Tighter clusters with more room between people are what verification by cosine similarity needs.",
            {"a": "The L2 normalisation is part of the network with or without a margin.",
             "b": "The head is still thrown away: unseen people have no class in it."},
        ),
    ),
    "03_pose_guided_gan": (
        Question(
            r"D's loss is $R(\text{real}) - k\,R(\text{fake})$. In a run, k's panel stays at 0 throughout. What "
            r"does that mean?",
            ("D has won: it rejects every fake, and G gets no gradient.",
             "The game has reached equilibrium, so training can stop.",
             "G is frozen until k rises.",
             "D only learns to rebuild real faces and never pushes G's faces away: it is not really a player."),
            "d",
            "With k at 0, D's loss is just $R(\\text{real})$; G then learns mainly from its L1 term.",
            {"a": "With k at 0, D never even tries to reject fakes; G still trains every step.",
             "b": "The convergence measure M speaks about equilibrium; k stuck at 0 means the balance term never "
                  "engages.",
             "c": "k only weights a term of D's loss; G is updated every step whatever k is."},
        ),
        Question(
            "G sees the target pose as a picture: a template person drawn at that pose. Why is the template the "
            "same person for everybody, not the target person?",
            ("Rendering a template per person would be too slow.",
             "A shared template carries pose and expression but never identity, so the person must come from $f_{id}$.",
             "A mean face gives G a higher judge similarity for free."),
            "b",
            "A template of the target person would hand G the answer, and G would copy it instead of learning to "
            "use $f_{id}$.",
            {"a": "Speed is not the reason; the renderer draws one template per face either way.",
             "c": "The template carries no identity; a featureless mean face scores low with the judge."},
        ),
        Question(
            "G follows the pose, yet the judge says its faces only vaguely resemble the source person. What is the "
            "main reason?",
            ("Nothing in G's loss asks for the person: L1 asks for the average face that fits the target, which "
             "blurs what makes someone recognisable.",
             "The identity features are too weak to carry identity.",
             "P's pose term is switched off, so G ignores $f_{id}$.",
             "D is too strong and erases the identity."),
            "a",
            "L1 gives an average face, D asks for *a* face and the template gives the pose: no term asks for *this* "
            "person.",
            {"b": "The same features verify unseen people well in notebook 02; the gap is in G's loss.",
             "c": "P's term concerns the pose, not the person; it is off because stripes can please P.",
             "d": "D's term has a small weight and asks for a face, not for a particular person."},
        ),
    ),
    "04_gdc_n_class": (
        Question(
            "The N-class C is trained to call G's face of person i \"person i\", and names the right person for "
            "more and more of G's faces. Why is it G's ally?",
            ("It starts as a copy of the identity network that G was built around.",
             "Its learning rate is too small to keep up with G.",
             "Its objective agrees with G's: it grows person i's region to take G's faces in, so it never learns "
             "what separates them from real photos.",
             "Its rising accuracy on G's faces proves that they look like the person."),
            "c",
            "C cannot say what separates G's face of i from a real photo of i, so G hears nothing about it.",
            {"a": "The start is not the reason; C's training labels are.",
             "b": "The learning rate is not the issue: C learns well, but it learns to agree with G.",
             "d": "C was trained to say so; only the judge can say whether the faces look like the person."},
        ),
        Question(
            r"In G's identity loss $1 - \cos(C(\text{source}), C(G(\dots)))$, the source side is a fixed target "
            r"with no gradient. Why?",
            ("To save memory; the result would be the same.",
             "The source is the person G must reach; otherwise the loss could shrink by pulling the target towards "
             "G's face.",
             "Cosine similarity cannot be differentiated in its first argument."),
            "b",
            "The gradient must flow through C into G's output, so only G's face moves towards the person.",
            {"a": "It changes what the loss rewards: a moving target lets the loss fall without a better face.",
             "c": "Cosine similarity is differentiable in both arguments; the choice is deliberate."},
        ),
        Question(
            "Suppose the judge's similarity here is higher than in notebook 03. Can you say that adding C caused "
            "the rise?",
            ("Yes: C is the only new player, so it must be the cause.",
             "Yes, because the judge never trained against either model.",
             "No: the judge is only valid within one notebook.",
             "No: the runs differ in more than C, so the rise cannot be pinned on it."),
            "d",
            "An identity loss, the pose weight, the steps and the test people all changed; notebook 06 compares "
            "identity players in one set-up.",
            {"a": "A new player is not the only change: several settings differ between the two runs.",
             "b": "An honest judge measures each run fairly, but it cannot say which of many changes caused a "
                  "difference.",
             "c": "The judge is the same everywhere; the set-ups are what differ."},
        ),
    ),
    "05_two_n_classifier": (
        Question(
            "In the toy, G's clouds start inside the right person's region but off the real cluster. With N classes "
            "they stay; with 2N they move to the real cluster's centre. Why?",
            ("With 2N, C carves a \"synthesized i\" region around G's points, and G can win \"real i\" only where C "
             "has seen real i and no fakes: on the real cluster.",
             "With 2N, C has twice as many outputs, so its gradients to G are twice as strong.",
             "With N classes, C pushes G's points away from the real cluster to keep its classes clean.",
             "With 2N, G is shown the real centre directly by a distance loss."),
            "a",
            "The N-class loss only asks for \"more i than anyone else\", which is satisfied far from the real cluster.",
            {"b": "Stronger gradients do not change direction; the pull comes from where \"real i\" is left.",
             "c": "The N-class C does the opposite: it grows i's region to take G's points in.",
             "d": "There is no such term; the pull comes only from C's label space."},
        ),
        Question(
            r"C's loss on synthesized faces is weighted by a schedule $\lambda_s(t)$: large early, smaller later. "
            r"Why that shape?",
            ("Early on, G's faces are the more reliable examples of each person.",
             "So that G wins in the end: a small weight makes C forget the synthesized classes.",
             "Fewer synthesized faces are made later in training.",
             "Early, C must learn what G's faces look like; later they are close to real, and C should not be "
             "pushed around by them."),
            "d",
            "The weight follows how much C has to learn from G's faces, and how much they could disturb its real "
            "classes.",
            {"a": "Early faces are the least reliable: they are far from the person.",
             "b": "The aim is not for C to forget; it keeps separating, without letting near-real fakes drag it.",
             "c": "Every step has as many synthesized faces; only their weight in C's loss changes."},
        ),
        Question(
            "On faces, a fresh 2N-class C sends many of G's faces to the synthesized classes. What must you check "
            "before calling that a success?",
            ("That it names the exact synthesized person N + i for most of G's faces.",
             "How many real photos it also sends to a synthesized class.",
             "That its training loss reached 0."),
            "b",
            "Catches mean little if real faces are called synthesized too: read its false alarms beside its catches.",
            {"a": "The exact synthesized person is harder and not the lever; the real vs synthesized split is.",
             "c": "A loss at 0 says it fits its training faces, not that it separates new ones."},
        ),
    ),
    "06_faceid_gan": (
        Question(
            r"Information symmetry: $f_{id} = C(\text{source})$, and G's identity loss is $1 - "
            r"\cos(C(\text{source}), C(\text{output}))$. What does it add?",
            ("G and C share weights, so G learns identity directly.",
             "The loss is symmetric in its arguments, so source and output can be swapped.",
             "One C reads G's input and scores its output, in a space trained to hold the difference between real i "
             "and synthesized i.",
             "It guarantees that the judge's similarity rises."),
            "c",
            "G is asked to remove, in C's space, the very difference C learns; the \"2N, no symmetry\" row measures "
            "whether this matters.",
            {"a": "G and C share no weights; symmetry means one network reads both sides.",
             "b": "That is a property of cosine, not the idea; the symmetry is about which network gives $f_{id}$.",
             "d": "Nothing guarantees it; the ablation measures it with the judge, on unseen people."},
        ),
        Question(
            "In the step, G's output is detached in D's and C's updates, and D and C are frozen in G's update. What "
            "is this for?",
            ("Each update moves only its own player: D's and C's losses must not train G, and G's loss must not "
             "reach D's and C's weights.",
             "Only memory and time: the trained models would be the same.",
             "The detach stops G from learning from D; G learns from C only.",
             "Freezing D and C stops gradients from reaching G through them."),
            "a",
            "Without the detach, G would be pushed towards faces D rebuilds badly and C calls synthesized; without "
            "the freeze, G's loss would ask D and C to side with G.",
            {"b": "A missing detach gives a different run: its fine-tune curve leaves the reference.",
             "c": "G learns from D in its own update, where its output is not detached.",
             "d": "Frozen weights take no gradient, but the gradient still flows through D and C to G's face."},
        ),
        Question(
            "Suppose a variant of the ablation had the highest judge similarity, but a part IoU at the blurred mean "
            "face's level. How should you read it?",
            ("It is the best variant: the judge is independent, so its number cannot mislead.",
             "As a finding, not a win: G may have learnt from its C what a recognition network likes to see, not "
             "how to paint the person.",
             "The part segmenter must be wrong, since the judge agrees with C."),
            "b",
            "Where part IoU says the picture is not a face, the judge's ranking tells which C G pleased, not that G "
            "paints the person.",
            {"a": "No player trains against the judge, but what pleases one recognition network can please another.",
             "c": "The true render and the blurred mean face calibrate the segmenter; look at the faces before "
                  "doubting it."},
        ),
    ),
    "07_umap_identity_clusters": (
        Question(
            "Suppose that in the 2N panel the crosses sit among their person's circles, and the gap between two "
            "people looks half as wide as in the N panel. What can you conclude?",
            ("Both: G's faces land among the real photos, and the 2N model halves the distance between people.",
             "Neither: a UMAP picture carries no information.",
             "Only the gap: UMAP keeps distances but shuffles neighbours.",
             "Only the first: UMAP keeps neighbourhoods, not distances between clusters."),
            "d",
            "To say how far G's faces are from the person, compute centroid distances and mixing in the original "
            "feature space.",
            {"a": "UMAP spreads clusters to use the page: gaps between them cannot be read literally.",
             "b": "Neighbourhoods are kept, so who sits among whom can be read off the picture.",
             "c": "It is the other way round: neighbours are kept, distances between clusters are not."},
        ),
        Question(
            "Why is UMAP fitted once, on the real photos and both models' faces at every kept step, with a fixed "
            "random state?",
            ("UMAP can only be fitted once per session.",
             "So that a position means the same thing in both panels and along the slider.",
             "So that the layout reproduces distances in feature space exactly."),
            "b",
            "Separate fits would each have their own layout, so a difference between pictures could be the "
            "layout's, not the models'.",
            {"a": "UMAP can be refitted at will; one fit is a choice made for comparability.",
             "c": "No UMAP fit reproduces distances; one fit only makes pictures comparable."},
        ),
        Question(
            "The table gives centroid distances in the judge's space and in each model's own C space. Which "
            "comparison between the N and 2N models is fair?",
            ("In their own C spaces: that is where G was trained.",
             "Only the own-C numbers, because the judge never saw G's faces in training.",
             "In the judge's space: one space for both models, that no player trained against.",
             "Any of them: a distance is a distance, whatever the space."),
            "c",
            "The own-C numbers say how each game's referee sees G's faces, each on its own scale.",
            {"a": "Each C has its own space, so their numbers cannot be set against each other.",
             "b": "That the judge never trained on G's faces is exactly what makes it fair.",
             "d": "Distances in two different spaces have different scales; the real cluster radius shows each "
                  "space's yardstick."},
        ),
    ),
    "08_frontalization": (
        Question(
            "Suppose one model's judge similarity hardly changes from frontal inputs to the most turned ones, and the "
            "other's falls as yaw grows. Is the flat one better?",
            ("Not necessarily: a model that paints nearly the same frontal face from every angle is flat too.",
             "Yes: not depending on yaw is the goal of frontalization.",
             "No: similarity must fall with yaw, so the flat model is broken."),
            "a",
            "Look along a row of the figure, and at similarity to the true frontal, part IoU and the reference rows.",
            {"b": "The goal is the person's own frontal face; a flat curve can also come from ignoring the input.",
             "c": "A flat curve is a warning to check, not a proof of failure."},
        ),
        Question(
            "Why are the true frontal photo and one blurred mean face scored beside the models?",
            ("To train G against them.",
             "Because the paper reports them.",
             "They give each number its scale: what a perfect G scores and what a featureless head scores.",
             "To replace the judge when the input is turned."),
            "c",
            "A pose error by P' no lower than the blurred mean face's has not shown that the model turns the face.",
            {"a": "References are never training signals; they only measure.",
             "b": "On real faces the paper had no true frontal photo; SynthFaces can render it.",
             "d": "The judge still scores every face; the references only add a scale."},
        ),
        Question(
            "For the frontal neutral target, G gets the mean of P's readings of frontal studio photos, not "
            "$f_{pose} = 0$. What would go wrong with zero?",
            ("Nothing: zero is exactly frontal and neutral, so the two codes are the same.",
             "G would ignore $f_{id}$ and paint the template.",
             "P would have to be retrained on zero codes.",
             "G only ever saw P's readings of photos, and P reads a neutral face above zero: a zero code asks for a "
             "face G never saw."),
            "d",
            "The target must be a code from the range G was trained on, which is what P gives for real frontal photos.",
            {"a": "P reads a neutral expression above zero, so the two codes differ.",
             "b": "$f_{id}$ still reaches every block; the problem is an unfamiliar pose code.",
             "c": "P is frozen and only reads photos; the target code is G's input, not P's."},
        ),
    ),
    "09_detection_and_responsible_use": (
        Question(
            "FaceID-GAN's 2N-class C never saw the test people, yet its summed synthesized-class probability "
            "detects G's faces of them. Why can it?",
            ("C memorised the test people during the game.",
             "\"Synthesized\" is not a person, it is a look: C learnt to separate real i from synthesized i for "
             "every training person.",
             "The score is computed with the judge's features."),
            "b",
            "What separates G's faces from real ones is shared across people, so it carries over to new people.",
            {"a": "The test people are unseen by every player, C included.",
             "c": "The score uses C's own probabilities; the judge is never part of it."},
        ),
        Question(
            "A dedicated detector separates FaceID-GAN's faces from real photos almost perfectly. What does that "
            "promise about the next generator, one it never saw?",
            ("The autoencoder's swaps are more realistic than FaceID-GAN's faces.",
             "Train on more FaceID-GAN faces and the cross-generator AUC will rise too.",
             "A detector learns one generator's fingerprints; an AUC on one unseen generator measures that "
             "generator, not the next.",
             "In-distribution AUC is the number to report; the cross-generator one is noise."),
            "c",
            "Detectors must be tested on generators they were not trained on, and provenance and labelling "
            "complement them.",
            {"a": "A detector's score says which fingerprints it learnt, not which generator looks more real.",
             "b": "More of one generator teaches its fingerprints better, not another's.",
             "d": "It is the other way round: the cross-generator test is the one to report."},
        ),
        Question(
            "A classmate wants to swap a friend's face into a party video with the course's tools. What does "
            "responsible use require?",
            ("Nothing special: the models are small and trained on cartoon faces, so the result is harmless.",
             "Use CelebA photos instead: the dataset's licence covers it.",
             "A label saying it is a joke, which replaces the need for consent.",
             "The friend's consent for this purpose, and a clear label that it is synthetic, in the caption and in "
             "the file."),
            "d",
            "A face is personal data: consent comes first, and labelling keeps the result from being taken for a "
            "recording.",
            {"a": "Harm depends on the use, not the model's size; a face is biometric data.",
             "b": "CelebA is for non-commercial research only, and its people never agreed to this.",
             "c": "Labelling complements consent; it does not replace it."},
        ),
    ),
}


def questions_markdown(notebook: str) -> str:
    """The markdown cell that asks `notebook`'s questions (the notebook holds exactly this text)."""
    lines = ["## Check your understanding",
             "Answer each question with one letter in the cell below (`answers = {1: \"b\", ...}`) and run it:"
             " a wrong letter tells you why it is wrong, a right one why it is right."]
    for number, q in enumerate(QUESTIONS[notebook], start=1):
        lines += ["", f"**{number}.** {q.text}", ""]
        lines += [f"- ({letter}) {choice}" for letter, choice in zip(LETTERS, q.choices, strict=False)]
    return "\n".join(lines)


@dataclass
class Marks:
    """check_answers' verdict: one line per question (shown as markdown in a notebook)."""
    notebook: str
    lines: list[str]
    right: int
    answered: int
    total: int

    @property
    def passed(self) -> bool:
        return self.right == self.total

    def __repr__(self) -> str:
        head = f"{self.right} of {self.total} right ({self.total - self.answered} not answered yet)"
        return "\n".join([head, *self.lines])

    def _repr_markdown_(self) -> str:
        head = f"**{self.right} of {self.total} right** ({self.total - self.answered} not answered yet)"
        return "\n".join([head, "", *(f"- {line}" for line in self.lines)])


def check_answers(notebook: str, answers: dict[int, str | None]) -> Marks:
    """The verdict on `answers` ({question number: letter or None}) for `notebook`'s questions: the last
    expression of the notebook's answer cell, so the notebook shows it."""
    if notebook not in QUESTIONS:
        raise ValueError(f"faceid-lab: no questions for notebook {notebook!r}; use one of {', '.join(QUESTIONS)}")
    questions = QUESTIONS[notebook]
    unknown = sorted(set(answers) - set(range(1, len(questions) + 1)))
    if unknown:
        raise ValueError(f"faceid-lab: answers has question number(s) {unknown}; {notebook} asks questions "
                         f"1 to {len(questions)}")
    lines, right, answered = [], 0, 0
    for number, q in enumerate(questions, start=1):
        given = answers.get(number)
        if given is None:
            lines.append(f"{number}: not answered yet")
            continue
        letter = str(given).strip().lower().strip("()")
        valid = LETTERS[:len(q.choices)]
        if letter not in valid:
            lines.append(f"{number}: {given!r} is not one of the letters {', '.join(valid)}")
            continue
        answered += 1
        if letter == q.answer:
            right += 1
            lines.append(f"{number}: ({letter}) is right. {q.why}")
        else:
            lines.append(f"{number}: ({letter}) is not it. {q.wrong[letter]} Try again.")
    return Marks(notebook, lines, right, answered, len(questions))

