"""Which setting a participation-dynamics run simulates, from what the user gave (metrics.md §8).

A run's decision-makers respond in one of three ways, each with its own source of risks: ``refit``
learners fit to a people file's rows (or a TOML spec of quadratic risks), ``frozen`` prediction files, or
``menu`` files each decision-maker chooses among. `SettingRequest` holds what was given; `setting_for`
resolves ``auto`` and refuses combinations that mix two sources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..spec import AuditSpec

RESPONSES = ("auto", "refit", "frozen", "menu")


@dataclass(frozen=True)
class SettingRequest:
    """What a dynamics run was given: prediction files (frozen, menu) or a people file or quadratic spec
    (refit), and how its decision-makers respond (``auto``: frozen with prediction files, menu with menus,
    else refit)."""

    response: str = "auto"
    inputs: Sequence[str] = ()
    menus: Mapping[str, Sequence[str]] = field(default_factory=dict)
    quadratic: str | None = None
    people: str | None = None
    features: Sequence[str] = ()
    target: str | None = None
    groups: Sequence[str] = ()
    loss: str = "auto"
    l2: float = 0.0
    drop_missing: bool = False

    @property
    def resolved_response(self) -> str:
        if self.response not in RESPONSES:
            raise UsageError(f"{{simulate.response}} must be one of {', '.join(RESPONSES)}; got '{self.response}'")
        if self.response != "auto":
            return self.response
        return "refit" if not self.inputs else ("menu" if self.menus else "frozen")


def setting_for(request: SettingRequest, spec: Callable[[], AuditSpec],
                on_stage: Callable[[str], None] = lambda _name: None) -> Any:
    """The `participation.Setting` the request asks for. `spec()`: the audit specification of its prediction
    files (frozen, menu), built only then."""
    from .choice import choice_setting
    from .participation import data_setting, quadratic_setting

    r = request
    response = r.resolved_response
    if response in ("frozen", "menu"):
        if not r.inputs or r.quadratic is not None or r.features or r.target:
            raise UsageError(f"--response {response} reads prediction files (as audit does), not --quadratic, "
                             "--features or --target")
        return choice_setting(spec(), response, r.menus, on_stage=on_stage)
    if r.inputs or r.menus:
        raise UsageError("prediction files and --menu go with --response frozen or menu")
    if (r.quadratic is None) == (r.people is None):
        raise UsageError("give either --quadratic SPEC.toml or --people FILE (with --features, --target, --group)")
    if r.quadratic is not None:
        return quadratic_setting(r.quadratic)
    if r.target is None:
        raise UsageError("name the target column with --target")
    return data_setting(r.people or "", list(r.features), r.target, list(r.groups), loss=r.loss, l2=r.l2,
                        drop_missing=r.drop_missing)
