"""The tasks of a homework sheet, (a), (b), (c), and the quantities that answer them (issue 14).

A problem's own `tasks:` are taken as written. Otherwise they follow the solution's parts: (a) the
forward pass and the loss, (b) the gradients asked for (the parameters', or `gradients:`), (c) where
there is a learning rate, those parameters after one update, and the loss after it where (b) asks
for every parameter's gradient (a student cannot update the rest without theirs). The question
sheet, the solution sheet, the answer columns of a class and every export number them alike, so
"(b)" means the same thing everywhere.
"""

from __future__ import annotations

from ..model.homework import Task
from ..model.problem import Problem
from ..model.quantities import AFTER, FORWARD, GRADIENT, UPDATED, Quantity, in_batch

#: The kinds of task a solution's parts answer, in the solution's order.
KINDS = ("forward", "gradients", "update")


def tasks_of(problem: Problem) -> tuple[Task, ...]:
    """The problem's tasks: its own, or those its solution answers."""
    if problem.tasks is not None:
        return problem.tasks
    gradients = asked_gradients(problem)
    # The batch's values on a problem with data, as a claims file's keys name them (in_batch).
    loss = in_batch(Quantity(FORWARD, problem.loss), None, problem)
    parts: list[tuple[str, tuple[Quantity, ...]]] = [("forward", (loss,))]
    if gradients:
        parts.append(("gradients", tuple(in_batch(Quantity(GRADIENT, n), None, problem) for n in gradients)))
    updated = [n for n in gradients if n in problem.parameters]
    if problem.learning_rate is not None and updated:
        # The loss after the update needs every parameter updated: asked only where (b) asks for
        # every parameter's gradient, or the student would need gradients no task asks for.
        after = (Quantity(AFTER, problem.loss),) if set(updated) == set(problem.parameters) else ()
        parts.append(("update", (*(Quantity(UPDATED, n) for n in updated), *after)))
    return tuple(Task(chr(ord("a") + i), kind, answers) for i, (kind, answers) in enumerate(parts))


def answers_of(problem: Problem) -> tuple[Quantity, ...]:
    """Every quantity the tasks ask for, in task order, each once: the answer columns of a class."""
    seen: dict[Quantity, None] = {}
    for task in tasks_of(problem):
        seen.update(dict.fromkeys(task.answers))
    return tuple(seen)


def asked_gradients(problem: Problem) -> tuple[str, ...]:
    """The gradients a sheet asks for: `gradients:` as listed, else the parameters' (every symbol's
    with `gradients: all`)."""
    if isinstance(problem.asked_gradients, tuple):
        return problem.asked_gradients
    if problem.asked_gradients == "all":
        data = problem.data.symbols if problem.data is not None else ()
        return tuple(n for n in problem.graph.symbols if n not in data)
    return problem.parameters


def task_of(problem: Problem, kind: str) -> Task | None:
    """The generated task that a part of the solution answers (None for a problem's own tasks,
    whose words the solution cannot map to its parts)."""
    return next((t for t in tasks_of(problem) if t.kind == kind), None)
