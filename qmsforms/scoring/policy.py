"""Scoring policies: versioned TOML in ``schemas/policies/`` read into pydantic models.

A policy holds every number a score depends on: points per event, rates, PPM steps, bands,
targets and the annual formula. The code implements each mechanism once (`Part`): a part
either deducts points per counted event, scales a percentage, or steps down with PPM over
target. A workspace can replace a policy file in its own ``schemas/policies/`` or override
single values in ``qmsforms.toml`` under ``[policies.<id>]``; the `PolicyRef` stored with every
score carries a digest of the effective policy, so a changed rule never passes unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import CONFIG_NAME
from ..definitions import DefinitionBroken, DefinitionProblem, merge, problems_of, read_toml
from ..issues import QmsFormsError

if TYPE_CHECKING:
    from ..config import Config
    from ..registry import FormDef


class PolicyError(QmsFormsError, ValueError):
    """A policy file or override is missing or invalid."""


class PolicyBroken(DefinitionBroken, PolicyError):
    """A policy was asked for whose file is broken (what depends on it is disabled)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """A score band: scores at or above ``min`` (and below the next band) fall in it."""

    min: Decimal = Field(ge=0, le=100)
    key: str
    zh: str
    en: str


class Ppm(_Strict):
    """Full marks within the PPM target; ``points_per_step`` lost per full ``step_pct`` over."""

    actual: str
    target: str
    step_pct: Decimal = Field(Decimal(10), gt=0)
    points_per_step: Decimal = Field(Decimal(1), gt=0)


class Part(_Strict):
    """One scoring mechanism worth ``points``, floored at 0.

    Exactly one of: ``deductions`` (field -> points per counted event), ``rate`` (a percentage
    field scaled to the points; ``blank`` says what an empty cell means) or ``ppm``.
    """

    key: str
    zh: str = ""
    en: str = ""
    points: Decimal = Field(gt=0, le=100)
    deductions: dict[str, Decimal] = Field(default_factory=dict)
    rate: str | None = None
    blank: Literal["full", "zero", "required"] = "required"
    ppm: Ppm | None = None

    @model_validator(mode="after")
    def _one_mechanism(self) -> Part:
        chosen = [bool(self.deductions), self.rate is not None, self.ppm is not None]
        if sum(chosen) != 1:
            raise ValueError(f"part {self.key!r} needs exactly one of deductions, rate, ppm")
        if any(v <= 0 for v in self.deductions.values()):
            raise ValueError(f"part {self.key!r}: points per event must be positive")
        return self

    @property
    def inputs(self) -> tuple[str, ...]:
        """The form fields this part reads."""
        if self.ppm is not None:
            return (self.ppm.actual, self.ppm.target)
        if self.rate is not None:
            return (self.rate,)
        return tuple(self.deductions)


class Category(_Strict):
    """A scored category (质量表现, 交期 D ...) made of one or more parts."""

    key: str
    zh: str
    en: str
    responsible_zh: str = ""
    responsible_en: str = ""
    parts: tuple[Part, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _single_part_shorthand(cls, raw: Any) -> Any:
        """A category written without ``parts`` is a single part with the category's key."""
        if isinstance(raw, Mapping) and "parts" not in raw:
            own = {"key", "zh", "en", "responsible_zh", "responsible_en"}
            part = {k: v for k, v in raw.items() if k not in own}
            part.update(key=raw.get("key"), zh=raw.get("zh", ""), en=raw.get("en", ""))
            return {**{k: v for k, v in raw.items() if k in own}, "parts": [part]}
        return raw

    @property
    def points(self) -> Decimal:
        """The most the category can score."""
        return sum((p.points for p in self.parts), Decimal(0))


class Annual(_Strict):
    """The annual formula: monthly mean, blended with the year's survey score when one exists."""

    months: int = Field(12, ge=1, le=12)
    survey_weight: Decimal = Field(Decimal(0), ge=0, le=1)


class MonitoringAlerts(_Strict):
    """When a monthly monitoring result needs an action."""

    consecutive_months: int = Field(3, ge=2, le=12)
    categories: tuple[str, ...] = ()
    monthly_target: Decimal = Field(Decimal(90), ge=0, le=100)
    annual_target: Decimal = Field(Decimal(90), ge=0, le=100)


class SurveyAlerts(_Strict):
    """When a survey score needs an action."""

    target: Decimal = Field(Decimal(85), ge=0, le=100)


class SampleTier(_Strict):
    """A band of customers by annual order value and the share of them a campaign surveys.

    A value falls in the first tier (highest ``min_value`` first) it reaches: above
    ``min_value``, or at it when ``inclusive``.
    """

    key: str
    zh: str = ""
    en: str = ""
    min_value: Decimal = Field(ge=0)
    inclusive: bool = True
    rate: Decimal = Field(gt=0, le=100)

    def holds(self, value: Decimal) -> bool:
        """Whether an order value falls in this tier (tiers checked from the top)."""
        return value >= self.min_value if self.inclusive else value > self.min_value


DEFAULT_TIERS = (
    SampleTier(key="over_500k", zh="年订单额 > 50 万", en="orders > 500,000",
               min_value=Decimal(500000), inclusive=False, rate=Decimal(100)),
    SampleTier(key="200k_500k", zh="20 万 – 50 万", en="orders 200,000 – 500,000",
               min_value=Decimal(200000), inclusive=True, rate=Decimal(50)),
    SampleTier(key="under_200k", zh="< 20 万", en="orders < 200,000",
               min_value=Decimal(0), inclusive=True, rate=Decimal(10)),
)


class Campaign(_Strict):
    """Who an annual survey campaign asks, and how many answers it needs back.

    [seed 002 QP-14 4.1] order value > 500,000 all, 200,000–500,000 half, below a tenth;
    [5.4.2] at least 10 surveyed; [5.3] return rate at least 70 %.
    """

    return_target: Decimal = Field(Decimal(70), ge=0, le=100)
    minimum: int = Field(10, ge=0)
    automotive_always: bool = True
    tiers: tuple[SampleTier, ...] = Field(DEFAULT_TIERS, min_length=1)

    @model_validator(mode="after")
    def _tiers_descending(self) -> Campaign:
        mins = [t.min_value for t in self.tiers]
        if mins != sorted(mins, reverse=True):
            raise ValueError("campaign tiers must be listed from the highest min_value down")
        if mins[-1] != 0 or not self.tiers[-1].inclusive:
            raise ValueError("the last campaign tier must start at 0 (inclusive)")
        if len({t.key for t in self.tiers}) != len(self.tiers):
            raise ValueError("campaign tier keys must be unique")
        return self

    def tier(self, value: Decimal) -> SampleTier:
        """The tier an annual order value falls in."""
        for tier in self.tiers:
            if tier.holds(value):
                return tier
        return self.tiers[-1]


class _Policy(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(min_length=1, max_length=20)
    title_zh: str
    title_en: str
    source: str = ""
    decimals: int = Field(1, ge=0, le=4)
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_descending(self) -> _Policy:
        mins = [b.min for b in self.bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("bands must be listed from the highest min down, no repeats")
        if mins[-1] != 0:
            raise ValueError("the last band must start at 0")
        return self

    def band(self, score: Decimal) -> Band:
        """The band a (rounded) score falls in."""
        for band in self.bands:
            if score >= band.min:
                return band
        return self.bands[-1]

    @property
    def ref(self) -> PolicyRef:
        """Id, version and digest of this effective policy, stored with every score."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True,
                               ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:12]
        return PolicyRef(self.id, self.version, digest)


class MonitoringPolicy(_Policy):
    """How a monthly monitoring sheet is scored and a customer's year is evaluated."""

    kind: Literal["monitoring"]
    categories: tuple[Category, ...] = Field(min_length=1)
    override: str | None = None
    annual: Annual = Field(default_factory=Annual)
    alerts: MonitoringAlerts = Field(default_factory=MonitoringAlerts)

    @model_validator(mode="after")
    def _consistent(self) -> MonitoringPolicy:
        keys = [c.key for c in self.categories]
        if len(set(keys)) != len(keys):
            raise ValueError("category keys must be unique")
        unknown = [k for k in self.alerts.categories if k not in keys]
        if unknown:
            raise ValueError(f"alerts name unknown categories: {', '.join(unknown)}")
        return self

    @property
    def points(self) -> Decimal:
        """The most a month can score (normally 100)."""
        return sum((c.points for c in self.categories), Decimal(0))

    @property
    def inputs(self) -> frozenset[str]:
        """Every form field the policy reads."""
        names = {n for c in self.categories for p in c.parts for n in p.inputs}
        if self.override:
            names.add(self.override)
        return frozenset(names)

    def category(self, key: str) -> Category:
        """A category by key (KeyError if absent)."""
        for cat in self.categories:
            if cat.key == key:
                return cat
        raise KeyError(key)


class SurveyPolicy(_Policy):
    """How a returned questionnaire is scored."""

    kind: Literal["survey"]
    pct_per_point: Decimal | None = Field(None, gt=0)
    flag_below_pct: Decimal = Field(Decimal(80), ge=0, le=100)
    complaint_max_pct: Decimal = Field(Decimal(40), ge=0, le=100)
    csat_min_pct: Decimal = Field(Decimal(80), ge=0, le=100)
    alerts: SurveyAlerts = Field(default_factory=SurveyAlerts)
    campaign: Campaign = Field(default_factory=Campaign)


Policy = MonitoringPolicy | SurveyPolicy


@dataclass(frozen=True)
class PolicyRef:
    """Which policy produced a score: id, version and a digest of its effective content."""

    id: str
    version: str
    digest: str

    def to_dict(self) -> dict[str, str]:
        """As stored in a record."""
        return {"id": self.id, "version": self.version, "digest": self.digest}


READ_ELSEWHERE = frozenset({"review", "actions"})
"""Kinds of policy files in ``schemas/policies`` that are not scoring policies (the review
targets, the action defaults): each is read by its own strict loader, not by `PolicySet`."""


def parse_policy(raw: Mapping[str, Any], origin: str = "policy") -> Policy:
    """Validate a policy mapping (as read from TOML) into its model."""
    kind = raw.get("kind")
    model: type[_Policy]
    if kind == "monitoring":
        model = MonitoringPolicy
    elif kind == "survey":
        model = SurveyPolicy
    else:
        raise PolicyError(f"{origin}: kind must be 'monitoring' or 'survey', not {kind!r}")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise PolicyError(f"{origin}: {exc}") from exc


def _reads(raw: Mapping[str, Any]) -> bool:
    try:
        return bool(parse_policy(raw))
    except PolicyError:
        return False


class PolicySet:
    """The policies of a workspace: shipped defaults, the workspace's files, config overrides.
    Each is checked as the set is made: a broken one is in `broken` (file, line, key; ``files``
    maps ids to files) and raises `PolicyBroken` when asked for; nothing else stops."""

    def __init__(self, raw: Mapping[str, Mapping[str, Any]],
                 overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 monitoring_default: str = "monitoring-000",
                 customers: Mapping[str, str] | None = None, *,
                 files: Mapping[str, Path] | None = None,
                 broken: Mapping[str, Sequence[DefinitionProblem]] | None = None) -> None:
        self._raw = {k: dict(v) for k, v in raw.items()}
        self._overrides = {k: dict(v) for k, v in (overrides or {}).items()}
        self._cache: dict[tuple[str, str], Policy] = {}
        self.monitoring_default = monitoring_default
        self.customers = {_customer_key(k): v for k, v in (customers or {}).items()}
        self.broken: dict[str, tuple[DefinitionProblem, ...]] = {
            k: tuple(v) for k, v in (broken or {}).items()}
        unknown = sorted(set(self._overrides) - set(self._raw) - set(self.broken))
        if unknown:
            raise PolicyError(f"qmsforms.toml overrides unknown policies: {', '.join(unknown)}")
        for pid in list(self._raw):
            try:
                self.get(pid)
            except PolicyError as exc:  # blamed on qmsforms.toml when the file alone reads
                blame = bool(self._overrides.get(pid)) and _reads(self._raw[pid])
                name = CONFIG_NAME if blame else pid
                path = (files or {}).get(name, Path(name if blame else f"{pid}.toml"))
                self.broken[pid] = tuple(problems_of(
                    "policy", pid, path, exc, None if name in (files or {}) else "",
                    ("policies", pid) if blame else ()))
        for pid in {monitoring_default, *self.customers.values()} - set(self.broken):
            if self.get(pid).kind != "monitoring":
                raise PolicyError(f"{pid} is not a monitoring policy")

    @classmethod
    def load(cls, folders: Sequence[Path], config: Config,
             config_file: Path | None = None) -> PolicySet:
        """Load the policy files in ``folders`` (a later folder's file replaces an earlier one
        of the same id) with the overrides of ``config`` (read from ``config_file``)."""
        raw: dict[str, dict[str, Any]] = {}
        files: dict[str, Path] = {CONFIG_NAME: config_file} if config_file else {}
        broken: dict[str, list[DefinitionProblem]] = {}
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.toml")):
                found = read_toml("policy", path)
                if isinstance(found, list):
                    raw.pop(path.stem, None)
                    broken[path.stem] = found
                elif found[0].get("kind") in READ_ELSEWHERE:
                    continue  # not a scoring policy: its own loader reads it
                else:
                    pid = found[0]["id"]
                    broken.pop(pid, None)
                    raw[pid], files[pid] = found[0], path
        return cls(raw, config.policies, config.scoring.monitoring,
                   config.scoring.customers, files=files, broken=broken)

    def __contains__(self, pid: object) -> bool:
        return pid in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._raw))

    def get(self, pid: str, extra: Mapping[str, Any] | None = None) -> Policy:
        """The effective policy ``pid`` with overrides, then ``extra``; `PolicyBroken` if broken."""
        if pid in self.broken:
            raise PolicyBroken(pid, self.broken[pid])
        if pid not in self._raw:
            known = ", ".join(sorted(self._raw)) or "none"
            raise PolicyError(f"unknown scoring policy {pid!r} (known: {known})")
        key = (pid, json.dumps(extra or {}, sort_keys=True, default=str))
        if key not in self._cache:
            raw = merge(self._raw[pid], self._overrides.get(pid, {}))
            if extra:
                raw = merge(raw, extra)
            self._cache[key] = parse_policy(raw, pid)
        return self._cache[key]

    master: Callable[[str], str | None] | None = None
    """The customer master's policy for a customer (its own, or the automotive policy when it
    is automotive), set by the workspace; it wins over ``[scoring.customers]``."""

    def monitoring(self, customer: str | None = None) -> MonitoringPolicy:
        """The monitoring policy that scores ``customer``: the customer master's, else
        ``[scoring.customers]``'s, else the configured default."""
        pid = ((self.master(customer) if self.master and customer else None)
               or self.customers.get(_customer_key(customer or ""), self.monitoring_default))
        policy = self.get(pid)
        assert isinstance(policy, MonitoringPolicy)
        return policy

    def survey(self, form: FormDef) -> SurveyPolicy:
        """The survey policy of a questionnaire, with the questionnaire's own overrides."""
        questionnaire = form.questionnaire
        if questionnaire is None:
            raise PolicyError(f"{form.id} is not a questionnaire")
        settings = dict(questionnaire.scoring)
        pid = str(settings.pop("policy", "survey-000"))
        policy = self.get(pid, settings)
        if not isinstance(policy, SurveyPolicy):
            raise PolicyError(f"{form.id}: {pid} is not a survey policy")
        return policy


def _customer_key(name: str) -> str:
    return " ".join(name.split()).casefold()
