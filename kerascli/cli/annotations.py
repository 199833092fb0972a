"""Problems as CI annotations that code-review pages show inline.

`kerascli validate --format github` prints GitHub Actions workflow commands
(`::error file=...,line=...,col=...::message`): the Actions runner turns each
into an annotation on the offending line of the pull request's diff.
"""

from __future__ import annotations

from kerascli.errors import Problem, printable

FORMATS = ("text", "github")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problem: Problem) -> str:
    """One problem as a GitHub Actions `::error` workflow command.

    Args:
        problem: the located problem.

    Returns:
        `::error file=F,line=L,col=C,title=kerascli::path: message`; `line`
        and `col` are left out when the problem has no place in the file.
    """
    props = [f"file={_escape_property(problem.file)}"] if problem.file else []
    if problem.line:
        props.append(f"line={problem.line}")
        if problem.col:
            props.append(f"col={problem.col}")
    props.append("title=kerascli validate")
    message = f"{problem.path}: {problem.message}" if problem.path else problem.message
    message = "\n".join(printable(line) for line in message.split("\n"))  # newlines are the format's to escape
    return f"::error {','.join(props)}::{_escape_data(message)}"
