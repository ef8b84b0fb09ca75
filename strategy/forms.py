"""Browser forms of strategy: they parse and check input; the services do the writes.

Choices (parents, owners, metrics) come from the workspace only, so an id of another
workspace posted by hand is "not one of the available choices", never a write.
"""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from accounts.models import User, Workspace
from strategy.models import (
    VALUE_DIGITS,
    VALUE_PLACES,
    Aggregation,
    Direction,
    KeyResult,
    Metric,
    MetricCategory,
    Objective,
    ObjectiveStatus,
)

MAX_CSV_BYTES = 20 * 1024 * 1024


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Shows a service's ValidationError on the form: on the field it names when the form
    has that field, else above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields else None
            for item in errors:
                form.add_error(target, item.messages)
    else:
        form.add_error(None, error.messages)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class MetricChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Metric) -> str:
        return f"{obj.name} ({obj.unit})"


def members_of(workspace: Workspace) -> QuerySet[User]:
    return User.objects.filter(memberships__workspace=workspace).order_by("full_name", "email")


def quarter_of(day: date) -> tuple[date, date]:
    """The first and the last day of the calendar quarter holding `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return start, next_start - timedelta(days=1)


def parent_choices(
    workspace: Workspace, *, editing: Objective | None = None
) -> tuple[list[tuple[str, str]], dict[int, Objective]]:
    """Parent options in tree order, indented by depth, with the objective being edited
    and its whole subtree left out (picking one of them would make a cycle). One query."""
    objectives = list(
        Objective.objects.filter(workspace=workspace).only("id", "title", "parent_id", "status")
    )
    children: dict[int | None, list[Objective]] = {}
    by_id = {o.pk: o for o in objectives}
    for o in objectives:
        parent_id = o.parent_id if o.parent_id in by_id else None
        children.setdefault(parent_id, []).append(o)
    choices: list[tuple[str, str]] = [("", "None — a top-level objective")]
    allowed: dict[int, Objective] = {}

    def walk(parent_id: int | None, depth: int) -> None:
        for o in children.get(parent_id, []):
            if editing is not None and o.pk == editing.pk:
                continue  # itself and, by not descending, all its sub-objectives
            archived = " (archived)" if o.status == ObjectiveStatus.ARCHIVED else ""
            choices.append((str(o.pk), f"{'— ' * depth}{o.title}{archived}"))
            allowed[o.pk] = o
            walk(o.pk, depth + 1)

    walk(None, 0)
    return choices, allowed


class ObjectiveForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it matters, and how you will know it is achieved.",
    )
    parent = forms.ChoiceField(
        required=False, help_text="A product objective sits under the company objective it serves."
    )
    owner = MemberChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner")
    period_start = forms.DateField(label="Period starts", widget=DateInput())
    period_end = forms.DateField(label="Period ends", widget=DateInput())
    status = forms.ChoiceField(choices=ObjectiveStatus.choices, initial=ObjectiveStatus.DRAFT)

    def __init__(
        self, *args: Any, workspace: Workspace, instance: Objective | None = None, **kwargs: Any
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": instance.title,
                "description": instance.description,
                "parent": str(instance.parent_id or ""),
                "owner": instance.owner_id,
                "period_start": instance.period_start,
                "period_end": instance.period_end,
                "status": instance.status,
            }
        super().__init__(*args, **kwargs)
        choices, self._parents = parent_choices(workspace, editing=instance)
        self.fields["parent"].choices = choices  # type: ignore[attr-defined]
        self.fields["owner"].queryset = members_of(workspace)  # type: ignore[attr-defined]

    def clean_parent(self) -> Objective | None:
        raw = self.cleaned_data.get("parent")
        return self._parents[int(raw)] if raw else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period must end on or after the day it starts.")
        return data


class KeyResultForm(forms.Form):
    metric = MetricChoiceField(
        queryset=Metric.objects.none(),
        empty_label="Choose a metric…",
        help_text="The business metric that proves the objective.",
    )
    title = forms.CharField(
        max_length=200, required=False, help_text="Optional: the metric's name is used otherwise."
    )
    baseline = forms.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, help_text="Where the metric starts."
    )
    target = forms.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, help_text="Where it should be."
    )
    start_on = forms.DateField(label="Starts on", widget=DateInput())
    due_on = forms.DateField(label="Due on", widget=DateInput())

    def __init__(
        self, *args: Any, workspace: Workspace, instance: KeyResult | None = None, **kwargs: Any
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "metric": instance.metric_id,
                "title": instance.title,
                "baseline": instance.baseline,
                "target": instance.target,
                "start_on": instance.start_on,
                "due_on": instance.due_on,
            }
        super().__init__(*args, **kwargs)
        # Live metrics only; a key result being edited keeps its own, even once archived.
        live = Q(archived_at__isnull=True)
        if instance is not None:
            live |= Q(pk=instance.metric_id)
        self.fields["metric"].queryset = Metric.objects.filter(  # type: ignore[attr-defined]
            live, workspace=workspace
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        baseline, target = data.get("baseline"), data.get("target")
        if baseline is not None and target is not None and baseline == target:
            self.add_error("target", "The target must differ from the baseline.")
        start, due = data.get("start_on"), data.get("due_on")
        if start and due and due <= start:
            self.add_error("due_on", "The due date must come after the start date.")
        return data


class MetricForm(forms.Form):
    name = forms.CharField(max_length=120)
    key = forms.SlugField(
        max_length=64,
        help_text="Short and unique in the workspace: letters, digits, - and _ (e.g. mrr).",
    )
    description = forms.CharField(
        label="Definition",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How it is defined and measured, so everyone reads it the same way.",
    )
    unit = forms.CharField(max_length=32, help_text="e.g. EUR, users, %, points.")
    category = forms.ChoiceField(choices=MetricCategory.choices)
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.INCREASE)
    aggregation = forms.ChoiceField(choices=Aggregation.choices, initial=Aggregation.LAST)
    value_per_unit = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=4,
        help_text="Money per unit of improvement; leave empty if it is not in money.",
    )
    owner = MemberChoiceField(queryset=User.objects.none(), required=False, empty_label="No owner")
    source = forms.CharField(
        max_length=200, required=False, help_text="Where the data comes from, e.g. Stripe."
    )

    def __init__(
        self, *args: Any, workspace: Workspace, instance: Metric | None = None, **kwargs: Any
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance, name)
                for name in (
                    "name",
                    "key",
                    "description",
                    "unit",
                    "category",
                    "direction",
                    "aggregation",
                    "value_per_unit",
                    "source",
                )
            } | {"owner": instance.owner_id}
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.instance = instance
        self.fields["owner"].queryset = members_of(workspace)  # type: ignore[attr-defined]
        self.fields["value_per_unit"].label = f"Value per unit ({workspace.currency})"

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"]
        taken = Metric.objects.filter(workspace=self.workspace, key=key)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(f"Another metric of this workspace already uses the key “{key}”.")
        return key


class MeasurementForm(forms.Form):
    observed_on = forms.DateField(label="Date", widget=DateInput())
    value = forms.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    source = forms.CharField(max_length=100, required=False)
    note = forms.CharField(max_length=500, required=False)


class MeasurementCsvForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns metric,observed_on,value,source — one row per metric and day.",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(
                f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it."
            )
        content: bytes = upload.read()
        return content


class DateRangeForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=DateInput())
    date_to = forms.DateField(required=False, label="To", widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError("The range must end on or after the day it starts.")
        return data
