"""The rules engine: the only module that imports experta.

A knowledge base is compiled once into a ``KnowledgeEngine`` subclass; every
consultation gets its own instance (experta has no locking: one engine per session).
Instances are pooled per class and reset between consultations, because building one
builds its RETE network, the costly part (see ``_Matcher`` for the other costs removed;
README.md, "Performance", has the figures).

How the engine reasons (goal-driven, in the style of CLIPS "need" facts): for each
knowledge-base rule with conditions c1..cn, experta gets
  * one conclusion rule: c1 & ... & cn            => a conclusion (rule, rank)
  * n need rules:        c1 & ... & c(i-1) & no fact for ci yet => a need (ci's question or check)
so a question (or a live check) is needed only while some rule whose earlier conditions
all hold waits on it. Needs and conclusions are results, never matched by a rule, so the
actions collect them in two sets of the engine instead of declaring facts: a fact would
walk the RETE network for nothing (at 1,000 rules the first question alone meets a need
from every rule). The consultation asks the best-ranked need whose rule ranks
before the best conclusion so far; when none is left, that conclusion stands.

experta 1.9.4 and Python 3.10+: its pinned frozendict 1.2 subclasses
``collections.Mapping``, which Python 3.10 removed (experta issue #34). The alias below
restores it before experta is imported. Its agenda has a bug: with four or more
activations of equal salience, a cancelled activation can stay and fire, so a rule
fires after its NOT(...) became false. Every compiled rule therefore gets its own
salience (tests/test_engine.py keeps a regression test).
"""

from __future__ import annotations

import collections
import collections.abc
import functools
import gc
import itertools
import logging
import math
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from diagnose.kb.model import Condition, KnowledgeBase

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import CodeType

    # experta ships no type information: to mypy these are Any, named for the reader.
    from experta.activation import Activation
    from experta.deffacts import DefFacts
    from experta.matchers.rete.abstract import Check, Node
    from experta.matchers.rete.token import Token

if not hasattr(collections, "Mapping"):  # pragma: no branch - Python >= 3.10
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

_root_handlers = list(logging.getLogger().handlers)
from experta import NOT, Fact, KnowledgeEngine, P, Rule  # noqa: E402
from experta.agenda import Agenda  # noqa: E402
from experta.fact import InitialFact  # noqa: E402
from experta.factlist import FactList  # noqa: E402
from experta.fieldconstraint import L  # noqa: E402
from experta.matchers import ReteMatcher  # noqa: E402
from experta.matchers.rete.check import (  # noqa: E402
    FactCapture,
    FeatureCheck,
    SameContextCheck,
    TypeCheck,
)
from experta.matchers.rete.mixins import ChildNode  # noqa: E402
from experta.matchers.rete.nodes import (  # noqa: E402
    ConflictSetNode,
    FeatureTesterNode,
    NotNode,
    OrdinaryMatchNode,
)
from experta.matchers.rete.utils import (  # noqa: E402
    extract_facts,
    generate_checks,
    prepare_rule,
    wire_rule,
)
from experta.strategies import DepthStrategy  # noqa: E402

# Importing experta calls logging.basicConfig(), which adds a stderr handler to the
# root logger; diagnose configures its own output, so undo that side effect.
logging.getLogger().handlers[:] = _root_handlers


class Answer(Fact):
    """question=<id>, value=<answer>"""


class Measured(Fact):
    """check=<id>, status=<pass|warn|fail|error|skip>"""


class Pending(NamedTuple):
    """A question or check some rule waits on; orders by the rule's rank, then step.

    A NamedTuple rather than an ordered frozen dataclass: the same fields, order,
    equality and hash, at a sixth of the cost to define on every start of the CLI."""

    rank: int
    step: int
    kind: str
    target: str
    rule: str


def _matching(condition: Condition) -> Fact:
    """The pattern of a condition. Equal conditions give equal patterns (a literal, or
    one shared predicate per distinct test), so experta shares their alpha nodes."""
    field = "question" if condition.kind == "question" else "check"
    if len(condition.values) == 1 and not condition.negated:
        (value,) = condition.values
        test: object = value  # a literal: experta compares it, no Python call per fact
    else:
        test = _predicate(condition.values, condition.negated)
    key = "value" if condition.kind == "question" else "status"
    fact_class = Answer if condition.kind == "question" else Measured
    return fact_class(**{field: condition.target, key: test})


_PREDICATES: dict[tuple[frozenset[str], bool], P] = {}


def _predicate(values: frozenset[str], negated: bool) -> P:
    """One P() per (values, negated): experta keys alpha nodes by the predicate's id."""
    entry = _PREDICATES.get((values, negated))
    if entry is None:

        def test(value: str) -> bool:
            return (value in values) != negated

        entry = _PREDICATES[(values, negated)] = P(test)
    return entry


def _absent(condition: Condition) -> NOT:
    if condition.kind == "question":
        return NOT(Answer(question=condition.target))
    return NOT(Measured(check=condition.target))


def _is_prepared(rule: Rule) -> bool:
    """A flat conjunction starting with a fact: what experta's prepare_rule returns."""
    return (
        type(rule) is Rule
        and len(rule) > 0
        and isinstance(rule[0], Fact)
        and all(isinstance(element, Fact | NOT) for element in rule)
        and all(isinstance(element[0], Fact) for element in rule if isinstance(element, NOT))
    )


def _unbound(rule: Rule) -> Rule:
    """A copy of ``rule`` not bound to an instance: what prepare_rule's rebuild gives
    (experta's Rule.__get__ binds the class attribute to the last instance read)."""
    copy = Rule(*rule, salience=rule.salience)
    copy.__dict__.update(rule.__dict__)
    copy._wrapped_self = None
    copy.__dict__.pop("ke", None)
    return copy


def _wire_flat(rule: Rule, alpha_terminals: Mapping[Fact, Node]) -> None:
    """experta's wire_rule() for a flat conjunction of facts and NOT(fact)s: a chain of
    join nodes (NotNode for a NOT), then the rule's conflict-set node."""

    def alpha(element: Fact | NOT) -> Node:
        return alpha_terminals[element[0] if isinstance(element, NOT) else element]

    current: NotNode | OrdinaryMatchNode | None = None
    for first, second in itertools.pairwise(rule):
        join = (NotNode if isinstance(second, NOT) else OrdinaryMatchNode)(SameContextCheck())
        left = alpha(first) if current is None else current
        right = alpha(second)
        # add_child() would first scan the parent's children for the new node, which
        # is quadratic for an alpha node that many rules share; a new node is never there.
        left.children.append(ChildNode(join, join.activate_left))
        right.children.append(ChildNode(join, join.activate_right))
        current = join
    last = alpha(rule[0]) if current is None else current
    conflict_set = ConflictSetNode(rule)
    last.children.append(ChildNode(conflict_set, conflict_set.activate))


class _Matcher(ReteMatcher):
    """experta's RETE matcher, with the same results at a cost that does not grow with
    the number of rules on every change:

    * ``changes()`` collects activations only from the conflict-set nodes that received
      a token since the last call (experta polls every rule's node on every change and
      on every step of ``run()``), in the same order as experta would;
    * ``reset()`` clears only the memories that received a token since the last reset
      (experta walks every path of the DAG).
    """

    @staticmethod
    def prepare_ruleset(engine: KnowledgeEngine) -> set[Rule]:
        # experta rewrites every rule into disjunctive normal form, rebuilding it several
        # times (each rebuild inspects the action's signature): the most costly part of
        # building the network. compile_kb writes its rules in that form already.
        return {
            _unbound(rule) if _is_prepared(rule) else prepare_rule(rule)
            for rule in engine.get_rules()
        }

    @staticmethod
    def build_alpha_part(ruleset: Iterable[Rule], root_node: Node) -> dict[Fact, Node]:
        """The alpha network as experta builds it (same checks, same order, same node
        for the same check under the same parent), but finding a parent's child for a
        check through a dict: experta scans the children, which is quadratic once the
        number of questions grows with the number of rules."""
        ruleset = set(ruleset)
        ruleset.add(Rule(InitialFact()))  # experta's dummy rule, for InitialFact's branch
        rule_facts = [(rule, extract_facts(rule)) for rule in ruleset]
        # experta's {fact: checks} over every occurrence: the first equal fact stays the
        # key, the last one's checks the value. The checks of one object are computed once.
        fact_checks: dict[Fact, set[Check]] = {}
        by_object: dict[int, set[Check]] = {}
        for _, facts in rule_facts:
            for fact in facts:
                checks = by_object.get(id(fact))
                if checks is None:
                    checks = by_object[id(fact)] = set(generate_checks(fact))
                fact_checks[fact] = checks
        rank = collections.Counter(itertools.chain.from_iterable(fact_checks.values()))

        def check_order(check: Check) -> tuple[float, int]:
            if isinstance(check, TypeCheck):
                return (math.inf, hash(check))
            if isinstance(check, FactCapture):
                return (-math.inf, hash(check))
            return (rank[check], hash(check))

        def rule_order(pair: tuple[Rule, set[Fact]]) -> float:
            facts = pair[1]
            return sum(rank[c] for fact in facts for c in fact_checks[fact]) / len(facts)

        ordered_checks: dict[Fact, list[Check]] = {}
        children: dict[tuple[int, int], FeatureTesterNode] = {}
        terminals: dict[Fact, Node] = {}
        for _, facts in sorted(rule_facts, key=rule_order, reverse=True):
            for fact in facts:
                ordered = ordered_checks.get(fact)
                if ordered is None:
                    ordered = ordered_checks[fact] = sorted(
                        fact_checks[fact], key=check_order, reverse=True
                    )
                node = root_node
                for check in ordered:
                    child = children.get((id(node), id(check)))
                    if child is None:
                        child = children[(id(node), id(check))] = FeatureTesterNode(check)
                        node.children.append(ChildNode(child, child.activate))
                    node = child
                terminals[fact] = node
        return terminals

    @staticmethod
    def build_beta_part(ruleset: Iterable[Rule], alpha_terminals: Mapping[Fact, Node]) -> None:
        # experta's wire_rule() creates fresh singledispatch functions for every rule,
        # so every rule pays for the dispatch caches again; flat rules are wired here
        # into the same nodes, in the same way.
        for rule in ruleset:
            if _is_prepared(rule):
                _wire_flat(rule, alpha_terminals)
            else:
                wire_rule(rule, alpha_terminals, lhs=rule)

    def build_network(self) -> None:
        # The network is tens of thousands of long-lived objects and no garbage: with the
        # cyclic collector on, each full collection during the build walks the whole heap
        # again, which made the build of 1,000 rules ~1.5x slower per rule than of 100.
        collecting = gc.isenabled()
        gc.disable()
        try:
            super().build_network()
            self._index_network()
        finally:
            if collecting:
                gc.enable()

    def _index_network(self) -> None:
        self._dirty: dict[ConflictSetNode, None] = {}
        self._touched: dict[Node, None] = {}
        order: dict[ConflictSetNode, int] = {}
        seen: set[int] = set()
        nodes: list[Node] = []
        stack = [self.root_node]
        while stack:  # depth-first, children in order: experta's order of conflict sets
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            nodes.append(node)
            if isinstance(node, ConflictSetNode):
                order[node] = len(order)
            stack.extend(child.node for child in reversed(node.children))
        for node in nodes:
            for index, child in enumerate(node.children):
                if isinstance(child.node, ConflictSetNode):
                    callback = self._watch(child.node)
                elif isinstance(child.node, OrdinaryMatchNode | NotNode):
                    callback = self._touching(child.node, child.callback)
                else:
                    continue
                node.children[index] = ChildNode(child.node, callback)
        for node in nodes:
            self._index_literals(node)
        self._order = order

    #: Fewer children than this are tested one by one, as experta does.
    _INDEXED = 4

    @classmethod
    def _index_literals(cls, node: Node) -> None:
        """Dispatch a fact by a dict lookup to the children that test one field for
        one literal string: experta offers every fact to every child (an answer met
        one test per question of the knowledge base: ``question == "q1"``,
        ``question == "q2"``, ...), each on a copy of the token. Only children whose
        test would pass are reached; they test again, so the result is the same."""
        literal: list[tuple[ChildNode, str, str] | None] = []
        for child in node.children:
            check = getattr(child.node, "matcher", None)
            if (
                isinstance(child.node, FeatureTesterNode)
                and isinstance(check, FeatureCheck)
                and isinstance(check.what, str)
                and "__" not in check.what
                and isinstance(check.how, L)
                and check.how.__bind__ is None
                and type(check.how.value) is str
            ):
                literal.append((child, check.what, check.how.value))
            else:
                literal.append(None)
        sizes = collections.Counter(entry[1] for entry in literal if entry is not None)
        indexed = {what for what, size in sizes.items() if size >= cls._INDEXED}
        if not indexed:
            return
        groups: dict[str, dict[str, list[Callable[[Token], None]]]] = {w: {} for w in indexed}
        children: list[ChildNode] = []
        for child, entry in zip(node.children, literal, strict=True):
            if entry is None or entry[1] not in indexed:
                children.append(child)
            else:
                groups[entry[1]].setdefault(entry[2], []).append(child.callback)
        children += [ChildNode(_Index(w), _dispatch(w, groups[w])) for w in sorted(indexed)]
        node.children[:] = children

    def _watch(self, csn: ConflictSetNode) -> Callable[[Token], None]:
        dirty, touched, activate = self._dirty, self._touched, csn.activate

        def activate_and_mark(token: Token) -> None:
            dirty[csn] = None
            touched[csn] = None
            activate(token)

        return activate_and_mark

    def _touching(self, node: Node, callback: Callable[[Token], None]) -> Callable[[Token], None]:
        touched = self._touched

        def activate_and_mark(token: Token) -> None:
            touched[node] = None
            callback(token)

        return activate_and_mark

    def changes(
        self, adding: Iterable[Fact] | None = None, deleting: Iterable[Fact] | None = None
    ) -> tuple[list[Activation], list[Activation]]:
        if deleting is not None:
            for fact in deleting:
                self.root_node.remove(fact)
        if adding is not None:
            for fact in adding:
                self.root_node.add(fact)
        added: list[Activation] = []
        removed: list[Activation] = []
        if self._dirty:
            order = self._order
            for csn in sorted(self._dirty, key=order.__getitem__):
                c_added, c_removed = csn.get_activations()
                added.extend(c_added)
                removed.extend(c_removed)
            self._dirty.clear()
        return added, removed

    def reset(self) -> None:
        # As fresh as a new instance: a pooled engine serves many consultations, so
        # activations a conflict set has not handed over yet are dropped too. Only the
        # nodes that received a token hold anything (every other memory is still as
        # built), so only those are wiped: a consultation touches a few rules' nodes,
        # and a reset no longer walks the network of every rule.
        for node in self._touched:
            node._reset()
            if isinstance(node, ConflictSetNode):
                node.added, node.removed = set(), set()
        self._touched.clear()
        self._dirty.clear()


class _Index:
    """Stands in a node's children for the children it dispatches to (for the eyes of
    anything that walks the network; the dispatch itself is the callback)."""

    children: tuple[ChildNode, ...] = ()

    def __init__(self, what: str) -> None:
        self.what = what


def _dispatch(
    what: str, by_value: Mapping[str, list[Callable[[Token], None]]]
) -> Callable[[Token], None]:
    none: list[Callable[[Token], None]] = []

    def dispatch(token: Token) -> None:
        for fact in token.data:  # a fact token holds exactly one fact
            try:
                targets = by_value.get(fact[what], none)
            except (KeyError, TypeError):  # no such field, or an unhashable value
                return
            for callback in targets:
                callback(token)

    return dispatch


class _Strategy(DepthStrategy):
    """experta's DepthStrategy (its agenda bug included), without the per-call
    ``lru_cache`` on ``get_key`` that hashes the whole rule for every activation."""

    def get_key(self, activation: Activation) -> tuple[int, list[int]]:
        facts = sorted((f["__factid__"] for f in activation.facts), reverse=True)
        return (activation.rule.salience, facts)


class _Engine(KnowledgeEngine):
    """The base of compiled engines: the RETE matcher and strategy above, and the rules
    and deffacts listed once per class (experta looks them up with
    ``inspect.getmembers`` on every instance and every ``reset()``)."""

    __matcher__ = _Matcher
    __strategy__ = _Strategy

    def __init__(self) -> None:
        # KnowledgeEngine.__init__ without its ABC subclass checks of the two classes
        # above (an issubclass() against an ABC costs ~0.3 ms here, twice per instance).
        self.running = False
        self.facts = FactList()
        self.agenda = Agenda()
        self.matcher = self.__matcher__(self)
        self.strategy = self.__strategy__()

    _rules: list[Rule] | None = None
    _deffacts: list[DefFacts] | None = None

    def reset_with(self, facts: list[Fact]) -> None:
        """``reset()``, with ``facts`` declared before the initial fact in one batch.

        What the engine concludes is the same as reset() then declare(*facts) (no rule
        fires before ``run``), but the need rules those facts already answer are never
        activated: told after reset(), each answer first met about one activation per
        knowledge-base rule (the need for the first question), then retracted them
        all, which made every step of a replayed consultation cost a full agenda's
        churn (90 ms at 1,000 rules; README.md, "Performance").
        """
        self.agenda = Agenda()
        self.facts = FactList()
        self.matcher.reset()
        initial = itertools.chain.from_iterable(deffact() for deffact in self.get_deffacts())
        self._KnowledgeEngine__declare(*facts, *initial)
        self.running = False

    def get_rules(self) -> list[Rule]:
        cls = type(self)
        rules: list[Rule] | None = cls.__dict__.get("_rules")
        if rules is None:
            rules = cls._rules = super().get_rules()
        return rules

    def get_deffacts(self) -> list[DefFacts]:
        cls = type(self)
        deffacts: list[DefFacts] | None = cls.__dict__.get("_deffacts")
        if deffacts is None:
            deffacts = cls._deffacts = super().get_deffacts()
        return deffacts


_ACTION_ARGUMENTS: dict[CodeType, set[str]] = {}


def _decorate(rule: Rule, action: Callable[..., None]) -> Rule:
    """``rule(action)``: what experta's Rule.__call__ does with its action, without
    inspecting the signature for every rule (all actions share two code objects)."""
    arguments = _ACTION_ARGUMENTS.get(action.__code__)
    if arguments is None:
        rule = rule(action)
        _ACTION_ARGUMENTS[action.__code__] = set(rule._wrapped_args)
        return rule
    rule._wrapped = action
    rule._wrapped_args = set(arguments)
    return functools.update_wrapper(rule, action)


def compile_kb(
    kb: KnowledgeBase, *, distinct_salience: bool = True, stock: bool = False
) -> type[KnowledgeEngine]:
    """Compile ``kb`` into a KnowledgeEngine subclass (do this once per knowledge base).

    ``distinct_salience=False`` exists only so the tests can show experta's agenda bug;
    ``stock=True`` uses experta's own matcher and strategy instead of ``_Matcher`` and
    ``_Strategy``, so the tests can check that both reach the same facts.
    """
    attributes: dict[str, object] = {}
    salience = iter(range(0, -1_000_000, -1))

    def add(name: str, patterns: list[Fact | NOT], action: Callable[..., None]) -> None:
        action.__name__ = name
        weight = next(salience) if distinct_salience else 0
        # Written the way experta's prepare_rule() would rewrite it (a flat conjunction
        # that starts with a fact), so _Matcher can take it as it is.
        if not patterns or isinstance(patterns[0], NOT):
            patterns = [InitialFact(), *patterns]
        attributes[name] = _decorate(Rule(*patterns, salience=weight), action)

    # One pattern object per distinct condition: experta keys its alpha network by the
    # pattern, so equal conditions of different rules share their nodes.
    patterns: dict[Condition, Fact] = {}
    absent: dict[tuple[str, str], NOT] = {}

    def matching(condition: Condition) -> Fact:
        if condition not in patterns:
            patterns[condition] = _matching(condition)
        return patterns[condition]

    def missing(condition: Condition) -> NOT:
        key = (condition.kind, condition.target)
        if key not in absent:
            absent[key] = _absent(condition)
        return absent[key]

    # Need rules with the same conditions are one experta rule that records all their
    # needs: the first condition of every rule waits on the same NOT(goal answered),
    # and experta shares no join node between rules, so 1,000 rules would otherwise
    # carry 1,000 copies of it through every reset and every consultation's first fact.
    needs: dict[tuple[int, ...], tuple[list[Fact | NOT], list[Pending]]] = {}
    for rule in kb.rules:
        matched = [matching(condition) for condition in rule.when]
        for step, condition in enumerate(rule.when):
            lhs = [*matched[:step], missing(condition)]
            entry = needs.setdefault(tuple(map(id, lhs)), (lhs, []))
            entry[1].append(Pending(rule.rank, step, condition.kind, condition.target, rule.id))

        def conclude(self: KnowledgeEngine, _rule: str = rule.id, _rank: int = rule.rank) -> None:
            self.found_conclusions.add((_rank, _rule))

        add(f"conclude__{rule.id}", matched, conclude)

    for index, (lhs, pending) in enumerate(needs.values()):

        def need(self: KnowledgeEngine, _pending: tuple[Pending, ...] = tuple(pending)) -> None:
            self.found_needs.update(_pending)

        add(f"need__{index}", lhs, need)

    base = KnowledgeEngine if stock else _Engine
    return type(f"Engine_{abs(hash(kb.directory)) & 0xFFFF:x}", (base,), attributes)


class Reasoner:
    """One consultation's working memory over a compiled engine class."""

    def __init__(
        self, engine_class: type[KnowledgeEngine], answers: Mapping[str, str] | None = None
    ) -> None:
        """``answers``: those known from the start (a consultation replayed from its
        state), declared with the initial fact in one batch; see ``_Engine.reset_with``.
        """
        # Building an instance builds its RETE network (the costly part), so instances
        # are pooled per class: a consultation borrows one, resets it, and gives it back
        # when the Reasoner is collected. One instance is never shared by two reasoners
        # (list.pop and list.append are atomic, so threads may share a class).
        pool: list[KnowledgeEngine] | None = engine_class.__dict__.get("_idle")
        if pool is None:
            pool = engine_class._idle = []  # on the class, so both go away together
        try:
            self._engine = pool.pop()
        except IndexError:
            self._engine = engine_class()
        weakref.finalize(self, pool.append, self._engine)
        # What the rules' actions collect (see the module's docstring).
        self._engine.found_needs = set()
        self._engine.found_conclusions = set()
        facts = [Answer(question=q, value=v) for q, v in (answers or {}).items()]
        if isinstance(self._engine, _Engine):
            self._engine.reset_with(facts)
        else:  # experta's own engine (the equivalence tests): the same facts, its way
            self._engine.reset()
            if facts:
                self._engine.declare(*facts)

    def tell_answer(self, question: str, value: str) -> None:
        self._engine.declare(Answer(question=question, value=value))

    def tell_check(self, check: str, status: str) -> None:
        self._engine.declare(Measured(check=check, status=status))

    def think(self) -> tuple[str | None, list[Pending]]:
        """Run to quiescence. Returns the best conclusion's rule id (or None) and the
        pending needs that rank before it, best first."""
        self._engine.run()
        facts = list(self._engine.facts.values())
        known = {("question", f["question"]) for f in facts if isinstance(f, Answer)}
        known |= {("check", f["check"]) for f in facts if isinstance(f, Measured)}
        conclusions: set[tuple[int, str]] = self._engine.found_conclusions
        best_rank, best_rule = min(conclusions) if conclusions else (None, None)
        pending = sorted(
            need
            for need in self.needs()
            if (need.kind, need.target) not in known
            and (best_rank is None or need.rank < best_rank)
        )
        return best_rule, pending

    def needs(self) -> Iterable[Pending]:
        """Every need the rules found (answered or not)."""
        found: set[Pending] = self._engine.found_needs
        return found


_COMPILED: dict[int, tuple[KnowledgeBase, type[KnowledgeEngine]]] = {}


def engine_for(kb: KnowledgeBase) -> type[KnowledgeEngine]:
    """The compiled engine class of ``kb``, compiled once per process."""
    entry = _COMPILED.get(id(kb))
    if entry is None or entry[0] is not kb:
        entry = _COMPILED[id(kb)] = (kb, compile_kb(kb))
    return entry[1]
