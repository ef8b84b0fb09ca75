"""Browser forms of ideas: submit, decline, and the filters of the ideas and Not doing
pages. They parse and check input; initiatives.services does the writes."""

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from initiatives.idea_selectors import SHOW_CHOICES, Show
from initiatives.models import Idea, IdeaSource, IdeaStatus
from initiatives.services import MIN_RATIONALE
from strategy.forms import DateInput

TITLE_MAX = Idea._meta.get_field("title").max_length


class IdeaForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX,
        help_text="The problem or the opportunity, in one line.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Let customers export reports to Excel"}),
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who asked for it, what they are trying to do, what it would change for them.",
    )
    source = forms.ChoiceField(
        choices=IdeaSource.choices,
        initial=IdeaSource.CUSTOMER,
        help_text="Where the idea comes from.",
    )

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError("Give the idea a title.")
        return title


class IdeaDeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Everyone in the workspace reads it on the Not doing page, the person who "
        "brought the idea too: say why not now, and what would change the answer.",
    )
    revisit_on = forms.DateField(
        label="Revisit on",
        required=False,
        widget=DateInput(),
        help_text="When the premise should be checked again; the page marks it as due then.",
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["revisit_on"].widget.attrs["min"] = (today + timedelta(days=1)).isoformat()

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if len(reason) < MIN_RATIONALE:
            raise ValidationError(
                f"Say why the idea is declined: at least {MIN_RATIONALE} characters "
                f"(this has {len(reason)})."
            )
        return reason

    def clean_revisit_on(self) -> date | None:
        revisit_on: date | None = self.cleaned_data.get("revisit_on")
        if revisit_on is not None and revisit_on <= self.today:
            raise ValidationError(
                f"A revisit date is in the future: after {self.today:%-d %b %Y} (today)."
            )
        return revisit_on


class IdeaFilterForm(forms.Form):
    """?status=&source= of the ideas page; an unknown value is ignored, not an error page."""

    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *IdeaStatus.choices], label="Status"
    )
    source = forms.ChoiceField(
        required=False, choices=[("", "Any source"), *IdeaSource.choices], label="Source"
    )

    def filters(self) -> dict[str, str]:
        """The valid filters only: a bad status still lets a good source filter."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


SHOW_LABELS = {
    "all": "All declined",
    "initiatives": "Initiatives",
    "ideas": "Ideas",
    "cancelled": "Cancelled",
}


def show_of(raw: str | None) -> Show:
    """The Not doing filter (?show=): all, initiatives, ideas or cancelled; all otherwise."""
    return cast(Show, raw) if raw in SHOW_CHOICES else "all"
