"""Concept questions: every notebook 01-09 asks its questions as the package writes them, its answer cell
holds the right letters (the student version none), and every letter gets its own explanation."""

import nbformat
import pytest

from faceid_lab.notebooks import EXERCISES, reference_notebooks, unanswered
from faceid_lab.questions import LETTERS, QUESTIONS, Question, check_answers, questions_markdown


def _cells(path, tag):
    return [c for c in nbformat.read(path, as_version=4).cells if tag in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", [p for p in reference_notebooks() if not p.name.startswith("00")],
                         ids=lambda p: p.stem)
def test_every_notebook_asks_its_questions_and_the_answer_cell_is_right(path):
    (asked,) = _cells(path, "questions")
    assert asked.source == questions_markdown(path.stem), "rewrite the cell with questions_markdown"
    (answer_cell,) = _cells(path, "answers")
    namespace: dict = {}
    exec(answer_cell.source.replace("# NBVAL_CHECK_OUTPUT\n", ""), namespace)  # noqa: S102 - the repository's own
    marks = namespace["check_answers"](path.stem, namespace["answers"])
    assert marks.passed and marks.right == len(QUESTIONS[path.stem]) >= 2
    (student,) = _cells(EXERCISES / path.name, "answers")
    exec(student.source, namespace)  # noqa: S102
    assert set(namespace["answers"].values()) == {None}
    assert "not answered yet" in repr(check_answers(path.stem, namespace["answers"]))


def test_each_letter_gets_its_own_explanation():
    for name, questions in QUESTIONS.items():
        for number, q in enumerate(questions, start=1):
            for letter in LETTERS[:len(q.choices)]:
                marks = check_answers(name, {number: letter.upper()})
                line = marks.lines[number - 1]
                if letter == q.answer:
                    assert marks.right == 1 and q.why in line
                else:
                    assert marks.right == 0 and q.wrong[letter] in line and "Try again" in line


def test_bad_answers_get_one_line_errors():
    with pytest.raises(ValueError, match="faceid-lab: no questions for notebook 'nope'"):
        check_answers("nope", {})
    with pytest.raises(ValueError, match="question number"):
        check_answers("05_two_n_classifier", {9: "a"})
    assert "is not one of the letters" in repr(check_answers("05_two_n_classifier", {1: "z"}))
    with pytest.raises(ValueError, match="an explanation for each other letter"):
        Question("Q?", ("x", "y", "z"), "a", "why", {"b": "no"})
    assert unanswered('answers = {1: "a", 2: "c"}  # yours\n') == "answers = {1: None, 2: None}  # yours\n"
