"""`simulate dynamics`: build the subpopulations (a quadratic spec or a people file), run the dynamics,
compare with one learner serving everyone, and audit the learners' decisions (metrics.md §8)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..count.table import PatternTable, cell_name
from ..errors import InputError, UsageError
from ..measure.draws import Draws
from ..measure.estimate import Estimate, scope_result
from ..measure.groups import group_draws, group_results
from ..measure.inference import bootstrap_weights
from ..measure.result import Metric
from ..read.files import read_table
from ..read.values import as_numbers
from ..spec import InferenceOptions
from . import core as dyn
from .choice import Choices
from .result import Baseline, DynamicsResult, Feature, FinalRecord, LearnerAudit, RoundRecord, Segment
from .risks import DataRisks, QuadraticRisks, standardise

FAIL_QUANTILE = 0.9  # squared loss: by default a person is failed when their error is in the baseline's top 10%


@dataclass(frozen=True)
class Setting:
    risks: dyn.Risks
    groups: list[str]
    beta: np.ndarray
    alphas: np.ndarray | None  # given by the spec, else chosen by --init
    kind: str
    loss: str
    features: list[Feature]
    rows: int | None = None
    excluded: int = 0
    data: DataRisks | None = None
    attributes: tuple[str, ...] = ()
    cells: tuple[tuple[str, ...], ...] = ()
    # Squared loss: the target's mean and standard deviation. The learners fit the standardised target, so
    # a risk is in units of its variance and (1 − ε)^risk does not depend on the target's scale.
    target_scale: tuple[float, float] | None = None
    choices: Choices | None = None  # frozen or menu: the prediction files the learners choose among
    warnings: list[str] = field(default_factory=list)


def quadratic_setting(path: str) -> Setting:
    """Read a quadratic spec: one [[group]] table per subpopulation (name, phi, beta, cov, sigma2, alphas)."""
    try:
        spec = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the spec ({exc.strerror})", file=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", file=path) from None
    tables = spec.get("group")
    if not isinstance(tables, list) or not tables:
        raise InputError("needs at least one [[group]] table", file=path)
    names, phis, covs, sig, betas, alphas = [], [], [], [], [], []
    for n, t in enumerate(tables, start=1):
        where = f"[[group]] {n}"
        unknown = set(t) - {"name", "phi", "beta", "cov", "sigma2", "alphas"}
        if unknown:
            raise InputError(f"{where}: unknown key '{sorted(unknown)[0]}'", file=path)
        name = str(t.get("name", f"group_{n}"))
        if name in names:
            raise InputError(f"{where}: the name '{name}' is used twice", file=path)
        phi = _vector(t.get("phi"), f"{where} ('{name}'): phi", path)
        d = phis[0].size if phis else phi.size
        if phi.size != d:
            raise InputError(f"{where} ('{name}'): phi has {phi.size} entries, the first group's {d}", file=path)
        cov = np.eye(d) if "cov" not in t else _matrix(t["cov"], d, f"{where} ('{name}'): cov", path)
        beta = _number(t.get("beta"), f"{where} ('{name}'): beta", path)
        sigma2 = _number(t.get("sigma2", 1.0), f"{where} ('{name}'): sigma2", path, positive=False)
        if not beta > 0:
            raise InputError(f"{where} ('{name}'): beta must be positive; got {beta}", file=path)
        names.append(name)
        phis.append(phi)
        covs.append(cov)
        sig.append(sigma2)
        betas.append(beta)
        if "alphas" in t:
            alphas.append(_vector(t["alphas"], f"{where} ('{name}'): alphas", path, non_negative=True))
    if alphas and len(alphas) != len(tables):
        raise InputError("give alphas in every [[group]] or in none", file=path)
    if alphas and len({a.size for a in alphas}) != 1:
        raise InputError("every [[group]] must list the same number of learners in alphas", file=path)
    beta = np.array(betas)
    return Setting(
        risks=QuadraticRisks(np.array(phis), np.array(covs), np.array(sig)),
        groups=names, beta=beta / beta.sum(), alphas=np.array(alphas) if alphas else None,
        kind="quadratic", loss="quadratic", features=[],
    )


def _number(value: object, what: str, path: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what} must be a number; got {value!r}", file=path)
    if not positive and value < 0:
        raise InputError(f"{what} must be non-negative; got {value}", file=path)
    return float(value)


def _vector(value: object, what: str, path: str, non_negative: bool = False) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise InputError(f"{what} must be a non-empty list of numbers", file=path)
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InputError(f"{what} must be a list of numbers; found {v!r}", file=path)
        if non_negative and v < 0:
            raise InputError(f"{what} must not be negative; found {v}", file=path)
    return np.array(value, dtype=float)


def _matrix(value: object, d: int, what: str, path: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != d:
        raise InputError(f"{what} must be a {d}×{d} matrix (a list of {d} rows)", file=path)
    rows = [_vector(r, what, path) for r in value]
    if any(r.size != d for r in rows):
        raise InputError(f"{what} must be a {d}×{d} matrix", file=path)
    return np.array(rows)


def data_setting(
    people: str, features: list[str], target: str, groups: list[str], loss: str = "auto",
    l2: float = 0.0, drop_missing: bool = False,
) -> Setting:
    """Subpopulations from a people file: one per combination of --group values, sized by their rows."""
    if not features:
        raise UsageError("name the feature columns with {simulate.features}")
    if not groups:
        raise UsageError("name the subpopulation column with {simulate.group}")
    columns = list(dict.fromkeys([*features, target, *groups]))
    roles = {c: "feature" for c in features} | {target: "target"} | {g: "group" for g in groups}
    table, _ = read_table(people, columns, roles)
    n = table.num_rows
    x = np.column_stack([as_numbers(table[c], people, c, "a feature must be numeric") for c in features])
    y = as_numbers(table[target], people, target, "the target must be numeric")
    group_text = [pc.cast(table[g], pa.string()).to_numpy(zero_copy_only=False) for g in groups]
    missing = np.isnan(x).any(axis=1) | np.isnan(y)
    for values in group_text:
        missing |= np.array([v is None or not str(v).strip() for v in values])
    if missing.any() and not drop_missing:
        row = int(np.argmax(missing))
        col = next(c for c in columns if _is_missing(table[c], row))
        raise InputError("missing value (pass {simulate.drop_missing} to leave such rows out, counted)",
                         file=people, column=col, row=row + 1)
    keep = ~missing
    labels = list(zip(*[v[keep].astype(str) for v in group_text], strict=True))
    cells = sorted(set(labels))
    if len(cells) < 1 or keep.sum() < 2:
        raise InputError("fewer than two usable rows", file=people)
    index = {c: i for i, c in enumerate(cells)}
    cell = np.array([index[c] for c in labels], dtype=np.int64)
    y = y[keep]
    if loss == "auto":
        loss = "logistic" if set(np.unique(y)) <= {0.0, 1.0} else "squared"
    if loss == "logistic" and not set(np.unique(y)) <= {0.0, 1.0}:
        raise InputError("logistic loss needs a 0/1 target", file=people, column=target)
    if loss not in ("squared", "logistic"):
        raise UsageError(f"{{simulate.loss}} must be auto, squared or logistic; got '{loss}'")
    raw = x[keep]
    scale = None
    if loss == "squared":
        scale = (float(y.mean()), float(y.std()))
        if not scale[1] > 0:
            raise InputError("the target takes one value: nothing to learn", file=people, column=target)
        y = (y - scale[0]) / scale[1]
    risks = DataRisks(standardise(raw, features, people), y, cell, len(cells), loss, l2)
    sizes = np.bincount(cell, minlength=len(cells)).astype(float)
    names = [cell_name(groups, c) for c in cells]
    feats = [Feature(f, float(m), float(s)) for f, m, s in zip(features, raw.mean(axis=0), raw.std(axis=0),
                                                             strict=True)]
    return Setting(risks=risks, groups=names, beta=sizes / sizes.sum(), alphas=None, kind="data", loss=loss,
                   features=feats, rows=n, excluded=int(missing.sum()), data=risks, attributes=tuple(groups),
                   cells=tuple(cells), target_scale=scale)


def _is_missing(col: pa.ChunkedArray, row: int) -> bool:
    v = col[row].as_py()
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def read_allocations(path: str, groups: list[str]) -> np.ndarray:
    """Initial allocations from a CSV: a row per group, the group name first, then a column per learner."""
    table, _ = read_table(path)
    if table.num_columns < 2:
        raise InputError("needs a group column and at least one learner column", file=path)
    first = [str(v) for v in table.column(0).to_pylist()]
    if sorted(first) != sorted(groups):
        raise InputError(f"lists groups {sorted(first)}; the simulation has {sorted(groups)}", file=path)
    values = np.column_stack([as_numbers(table.column(i), path, table.column_names[i],
                                         "an allocation must be numeric") for i in range(1, table.num_columns)])
    return values[[first.index(g) for g in groups]]


def dynamics(
    setting: Setting,
    *,
    learners: int | None = None,
    init: str = "random",
    epsilon: float = 0.1,
    rounds: int = 100,
    update: str = "exact",
    step_size: float = 0.1,
    tol: float = 1e-9,
    seed: int = 0,
    fail_above: float | None = None,
    inference: InferenceOptions | None = None,
    min_group_size: int = 30,
) -> DynamicsResult:
    """Run the participation dynamics on a setting and collect everything the report shows."""
    rng = np.random.default_rng(seed)
    g = len(setting.groups)
    if setting.alphas is not None:
        if learners is not None and learners != setting.alphas.shape[1]:
            raise UsageError(f"{{simulate.learners}} {learners} contradicts the spec's alphas "
                             f"({setting.alphas.shape[1]} learners)")
        given: str | np.ndarray = setting.alphas
    else:
        if learners is not None and learners < 1:
            raise UsageError(f"{{simulate.learners}} must be at least 1; got {learners}")
        given = init if init in ("uniform", "random") else read_allocations(init, setting.groups)
    choices = setting.choices
    if choices is not None and learners not in (None, len(choices.learners)):
        raise UsageError(f"{{simulate.learners}} {learners} contradicts the {len(choices.learners)} decision-makers "
                         "of the prediction files")
    default_k = 2 if choices is None else len(choices.learners)
    alphas = dyn.initial_allocations(given, g, default_k if learners is None else learners, rng)
    k = alphas.shape[1]
    if choices is not None and k != len(choices.learners):
        raise UsageError(f"the initial allocations have {k} learners; the prediction files "
                         f"{len(choices.learners)} decision-makers")
    names = [f"learner_{i + 1}" for i in range(k)] if choices is None else choices.learners
    traj = dyn.run(setting.risks, setting.beta, alphas, epsilon=epsilon, rounds=rounds, update=update,
                   step_size=step_size, tol=tol, thetas=None if choices is None else choices.start)
    theta_b, risk_b = dyn.single_learner(setting.risks, setting.beta)
    records = [_record(t + 1, s, setting.groups, choices) for t, s in enumerate(traj.steps)]
    last = traj.final
    segments = [Segment(setting.groups[gi], names[i], share, share >= dyn.SEGMENTED)
                for gi, (i, share) in enumerate(dyn.segmentation(traj.final_allocations))]
    final = FinalRecord(**vars(_record(len(records), last, setting.groups, choices)),
                        thetas=[_floats(t) for t in last.thetas], segmentation=segments)
    baseline_total = float(setting.beta @ risk_b)
    result = DynamicsResult(
        kind="dynamics", setting=setting.kind, loss=setting.loss, groups=list(setting.groups),
        beta=dict(zip(setting.groups, _floats(setting.beta), strict=True)), learners=names,
        options={"epsilon": epsilon, "rounds": rounds, "learner_update": update,
                 "step_size": step_size if update == "gradient" else None, "tol": tol, "seed": seed,
                 "init": "spec" if setting.alphas is not None else init},
        rounds_run=len(records), converged=traj.converged, trajectory=records, final=final,
        baseline=Baseline(_floats(theta_b), dict(zip(setting.groups, _floats(risk_b), strict=True)),
                          baseline_total),
        risk_vs_baseline=Metric.of(final.total_risk / baseline_total if baseline_total > 0 else np.nan,
                                   "the single learner has zero risk"),
        segmented=all(s.segmented for s in segments),
        features=setting.features, rows=setting.rows, excluded_rows=setting.excluded,
        response="refit" if choices is None else choices.response, menus={} if choices is None else choices.menus,
        warnings=list(setting.warnings),
    )
    if setting.excluded:
        result.warnings.append(f"{setting.excluded} rows with a missing value were left out (--drop-missing)")
    if setting.target_scale is not None:
        mean, sd = setting.target_scale
        result.warnings.append(f"squared loss on the standardised target (mean {mean:.4g}, sd {sd:.4g}): risks are "
                               "in units of its variance, so the dynamics do not depend on its scale")
    if not traj.converged:
        result.warnings.append(f"the allocations were still moving after {rounds} rounds (raise --rounds)")
    elif len(records) <= 3 and all(s.share > 1 - 1e-6 for s in segments) and traj.steps[0].risk_matrix.max() > 50:
        result.converged = False  # every subpopulation on one learner after a round or two: the scale, not
        result.warnings.append(  # the dynamics, decided it
            f"every subpopulation went to one learner within {len(records)} rounds because the risks are large "
            f"(up to {traj.steps[0].risk_matrix.max():.3g}) for (1 − ε)^risk: not a converged state; rescale "
            "the risks or lower --epsilon")
    scale_sd = 1.0 if setting.target_scale is None else setting.target_scale[1]
    opts = inference or InferenceOptions(seed=seed, permutations=0)
    if choices is not None and choices.response == "frozen":
        result.audit_reason = ("frozen: the decision-makers keep their predictions, so their systemic failure does "
                               "not change (`monoculture audit` on the same files gives it); people only move")
    elif choices is not None:
        result.audit = [_audit(choices.failures_table(thetas), names, when, choices.rule, opts, min_group_size)
                        for when, thetas in (("first round", traj.steps[0].thetas), ("final", last.thetas))]
    elif setting.data is None:
        result.audit_reason = "a quadratic spec has risks but no individuals, so there are no decisions to audit"
    elif k < 2:
        result.audit_reason = "one learner: systemic failure needs at least two decision-makers"
    else:
        rule, threshold = _failure_rule(setting.data, theta_b, fail_above, scale_sd)
        result.audit = [_audit(_learner_table(setting, thetas, names, threshold), names, when, rule, opts,
                               min_group_size)
                        for when, thetas in (("first round", traj.steps[0].thetas), ("final", last.thetas))]
    return result


def _floats(a: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(a).ravel()]


def _record(number: int, step: dyn.Step, groups: list[str], choices: Choices | None) -> RoundRecord:
    return RoundRecord(
        round=number,
        allocations={g: _floats(step.allocations[i]) for i, g in enumerate(groups)},
        risks={g: float(step.group_risk[i]) for i, g in enumerate(groups)},
        learner_risks={g: _floats(step.risk_matrix[i]) for i, g in enumerate(groups)},
        total_risk=step.total_risk,
        deployed=[] if choices is None else choices.deployed(step.thetas),
    )


def _failure_rule(data: DataRisks, theta_b: np.ndarray, fail_above: float | None,
                  sd: float = 1.0) -> tuple[str, float]:
    """The rule and its threshold on the learners' errors (in the standardised target's units: `sd` is the
    target's standard deviation; thresholds are said and given in the target's own units)."""
    if data.loss == "logistic":
        return "the learner's decision (probability ≥ 0.5) differs from the target", 0.0
    if fail_above is None:
        errors = np.abs(data.y - data.x @ theta_b)
        threshold = float(np.quantile(errors, FAIL_QUANTILE))
        return (f"absolute error above {threshold * sd:.4g} (the single learner's 90th percentile; "
                "set it with --fail-above)", threshold)
    if not fail_above >= 0:
        raise UsageError(f"{{simulate.fail_above}} must be non-negative; got {fail_above}")
    return f"absolute error above {fail_above:.4g} (--fail-above)", fail_above / sd


def learner_failures(data: DataRisks, thetas: np.ndarray, threshold: float) -> np.ndarray:
    """The (n, k) failure matrix of the learners' decisions on the rows of the people file."""
    z = data.x @ thetas.T
    if data.loss == "logistic":
        return (z >= 0) != (data.y[:, None] == 1)
    return np.abs(data.y[:, None] - z) > threshold


def _learner_table(setting: Setting, thetas: np.ndarray, names: list[str], threshold: float) -> PatternTable:
    data = setting.data
    assert data is not None
    fail = learner_failures(data, thetas, threshold)
    return PatternTable.from_matrix(names, fail, np.ones_like(fail), data.group, setting.cells, setting.attributes)


def _audit(table: PatternTable, names: list[str], when: str, rule: str, inference: InferenceOptions,
           min_group_size: int) -> LearnerAudit:
    seeds = np.random.SeedSequence(inference.seed).spawn(2)
    rng, rng_groups = (np.random.default_rng(s) for s in seeds)
    c = table.counts()
    est = Estimate.of(c, inference, bootstrap_weights(c, inference, rng), with_pairs=True)
    overall = scope_result(est, names, with_pairs=True)
    with Draws(group_draws(table, inference, rng_groups, False)) as draws:
        groups = group_results(table, names, inference, draws, False, min_group_size, 0)
    return LearnerAudit(when, rule, overall, groups)
