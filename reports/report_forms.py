"""Forms of the report pages: they parse what a person typed into the arguments of
reports.services; the rules, and their words, are the services'."""

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Team, User, Workspace
from reports.models import NAME_LENGTH, ReportDefinition, ReportFormat, ReportPeriod
from strategy.forms import DateInput, parent_choices
from strategy.models import Objective

HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return obj.name


class MembersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} <{obj.email}>"


class ReportDefinitionForm(forms.Form):
    # Not required here: the service says what is missing, in its words, with the rest.
    name = forms.CharField(
        required=False,
        max_length=NAME_LENGTH * 4,
        help_text="E.g. “Monthly value review” or “Board report”.",
    )
    team = TeamChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="All teams",
        help_text="Only this team's initiatives.",
    )
    objective = forms.ChoiceField(
        required=False,
        help_text="Only this objective, its sub-objectives and the work aligned to them.",
    )
    period = forms.ChoiceField(
        choices=ReportPeriod.choices,
        initial=ReportPeriod.MONTH,
        help_text="What each report covers: a week (Monday to Sunday), a month or a quarter.",
    )
    scheduled = forms.BooleanField(
        required=False,
        initial=True,
        label="Send on a schedule",
        help_text="Make and send a report of every period once it has ended.",
    )
    send_hour = forms.TypedChoiceField(
        choices=HOURS,
        coerce=int,
        initial=7,
        label="Send at",
        help_text="On the day after the period ends, at this hour (the workspace's time).",
    )
    formats = forms.MultipleChoiceField(
        choices=ReportFormat.choices,
        required=False,
        initial=[ReportFormat.HTML, ReportFormat.PDF],
        widget=forms.CheckboxSelectMultiple,
        help_text="The e-mail carries the HTML as its body and the PDF attached.",
    )
    recipient_users = MembersField(
        queryset=User.objects.none(),
        required=False,
        label="Members",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="They get it at their current address. Hold Ctrl (⌘ on a Mac) to choose several.",
    )
    recipient_emails = forms.CharField(
        required=False,
        label="Other e-mail addresses",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "cfo@example.com"}),
        help_text="One address per line.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["team"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
            workspace=workspace
        ).order_by("name")
        choices, self._objectives = parent_choices(workspace)
        self.fields["objective"].choices = [("", "All objectives"), *choices[1:]]  # type: ignore[attr-defined]
        self.fields["recipient_users"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(memberships__workspace=workspace).order_by("full_name", "email")
        )

    @classmethod
    def initial_of(cls, definition: ReportDefinition) -> dict[str, Any]:
        recipients = list(definition.recipients.all())
        return {
            "name": definition.name,
            "team": definition.team_id,
            "objective": str(definition.objective_id or ""),
            "period": definition.period,
            "scheduled": definition.scheduled,
            "send_hour": definition.send_hour,
            "formats": list(definition.formats),
            "recipient_users": [r.user_id for r in recipients if r.user_id is not None],
            "recipient_emails": "\n".join(r.email for r in recipients if r.user_id is None),
        }

    def clean_objective(self) -> Objective | None:
        raw = self.cleaned_data.get("objective")
        return self._objectives[int(raw)] if raw else None

    def clean_recipient_emails(self) -> list[str]:
        text: str = self.cleaned_data.get("recipient_emails") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def service_arguments(self) -> dict[str, Any]:
        """What report_definition_create takes (and report_definition_update's changes)."""
        return dict(self.cleaned_data)

    def add_service_error(self, error: ValidationError) -> None:
        """The service's errors on the fields they name; "recipients" (none at all, or too
        many) under the addresses, where the list ends."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, errors in error.error_dict.items():
            target = "recipient_emails" if name == "recipients" else name
            for item in errors:
                self.add_error(target if target in self.fields else None, item.messages)


class RunNowForm(forms.Form):
    day = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Period holding",
        help_text="Leave empty for the current period; pick a day to report on an earlier one.",
    )

    def day_or_none(self) -> date | None:
        day: date | None = self.cleaned_data.get("day")
        return day
