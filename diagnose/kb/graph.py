"""``diagnose kb graph``: the decision structure of a knowledge base, as a picture.

Rules are read as paths: each rule's conditions, in the order written, are the
questions asked (or the checks measured) on the way to its article, and rules that
begin alike share the beginning of their path. So the graph reads as the decision
tree the consultation walks: a question, an edge per answer, the next question or a
live check, an edge per status, then the rule that concludes and its article. Written
as a Mermaid flowchart (GitHub and GitLab render it in Markdown) or as Graphviz DOT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnose.i18n import _
from diagnose.kb.model import Condition, KnowledgeBase, Outcome


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # start, question, check, rule, article
    label: str
    outcome: str = ""  # articles: resolution, information, escalation


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = field(default=())


def _answers(condition: Condition) -> str:
    shown = " / ".join(sorted(condition.values))
    return f"not {shown}" if condition.negated else shown


def build(kb: KnowledgeBase) -> Graph:
    """The decision tree of ``kb``: shared rule prefixes merged, one node per article."""
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str, str], Edge] = {}
    ids: dict[object, str] = {}

    def node(key: object, kind: str, label: str, outcome: str = "") -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            nodes[ids[key]] = Node(ids[key], kind, label, outcome)
        return ids[key]

    def edge(source: str, target: str, label: str = "") -> None:
        edges.setdefault((source, target, label), Edge(source, target, label))

    start = node(("start",), "start", _("start"))
    for rule in kb.rules:
        # ``here`` is the last node of the path so far, ``taken`` the answer (or status)
        # that leaves it: the label of the next edge.
        here, taken = start, ""
        path: tuple[tuple[str, str, str], ...] = ()
        for condition in rule.when:
            if condition.kind == "question":
                question = kb.questions[condition.target]
                asked = node(
                    (path, condition.target), "question", f"{question.prompt} ({question.id})"
                )
            else:
                binding = kb.checks[condition.target]
                asked = node(
                    (path, condition.target),
                    "check",
                    _("live check {check} (measures {input})").format(
                        check=condition.target, input=binding.input
                    ),
                )
            edge(here, asked, taken)
            here, taken = asked, _answers(condition)
            path = (*path, (condition.kind, condition.target, taken))
        concluded = node(("rule", rule.id), "rule", rule.id)
        # A rule without conditions concludes when no earlier rule does.
        edge(here, concluded, taken if rule.when else _("otherwise"))
        article = kb.articles[rule.article]
        shown = node(
            ("article", article.id),
            "article",
            f"{article.title} ({article.id})",
            str(article.outcome),
        )
        edge(concluded, shown)
    return Graph(tuple(nodes.values()), tuple(edges.values()))


def to_dict(graph: Graph) -> dict[str, object]:
    """The graph as JSON: nodes (id, kind, label, outcome) and edges (from, to, label)."""
    return {
        "nodes": [
            {"id": n.id, "kind": n.kind, "label": n.label, "outcome": n.outcome or None}
            for n in graph.nodes
        ],
        "edges": [{"from": e.source, "to": e.target, "label": e.label} for e in graph.edges],
    }


# --- Mermaid ----------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "start": ('(("', '"))'),
    "question": ('{"', '"}'),
    "check": ('[/"', '"/]'),
    "rule": ('(["', '"])'),
    "article": ('[["', '"]]'),
}


def _mermaid_text(text: str) -> str:
    # Inside a quoted Mermaid label only the quote itself and the characters Mermaid
    # reads as markup need entity codes (https://mermaid.js.org/syntax/flowchart.html,
    # "Entity codes to escape characters").
    escaped = text.replace("#", "#35;").replace('"', "#quot;")
    for char, code in (("<", "#lt;"), (">", "#gt;"), ("|", "#124;"), ("`", "#96;")):
        escaped = escaped.replace(char, code)
    return escaped.replace("\n", " ")


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for n in graph.nodes:
        opening, closing = _MERMAID_SHAPES[n.kind]
        lines.append(f"  {n.id}{opening}{_mermaid_text(n.label)}{closing}")
    for e in graph.edges:
        label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"  {e.source} -->{label} {e.target}")
    lines += [
        "  classDef question fill:#eef4ff,stroke:#3b6fd8",
        "  classDef check fill:#fff6e0,stroke:#c98a00",
        "  classDef rule fill:#f4f4f4,stroke:#888",
        "  classDef escalation fill:#ffecec,stroke:#c0392b",
        "  classDef article fill:#eaf7ea,stroke:#2e8b57",
    ]
    for kind in ("question", "check", "rule"):
        members = [n.id for n in graph.nodes if n.kind == kind]
        if members:
            lines.append(f"  class {','.join(members)} {kind}")
    for style, wanted in (("escalation", True), ("article", False)):
        members = [
            n.id
            for n in graph.nodes
            if n.kind == "article" and (n.outcome == Outcome.ESCALATION) == wanted
        ]
        if members:
            lines.append(f"  class {','.join(members)} {style}")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT -----------------------------------------------------------------------

_DOT_SHAPES = {
    "start": "circle",
    "question": "diamond",
    "check": "parallelogram",
    "rule": "box, style=rounded",
    "article": "box, style=filled, fillcolor=palegreen",
}


def _dot_text(text: str) -> str:
    # A DOT quoted string: backslash and quote escaped, no raw newline
    # (https://graphviz.org/doc/info/lang.html).
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def dot(graph: Graph) -> str:
    lines = ["digraph knowledge_base {", "  rankdir=LR;", '  node [fontname="sans-serif"];']
    for n in graph.nodes:
        shape = _DOT_SHAPES[n.kind]
        if n.outcome == Outcome.ESCALATION:
            shape = "box, style=filled, fillcolor=mistyrose"
        lines.append(f"  {n.id} [shape={shape}, label={_dot_text(n.label)}];")
    for e in graph.edges:
        label = f" [label={_dot_text(e.label)}]" if e.label else ""
        lines.append(f"  {e.source} -> {e.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
