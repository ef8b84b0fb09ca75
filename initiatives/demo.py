"""The initiatives of the demo workspace "Acme Analytics": a portfolio in every status, with
alignments, expected impacts, stakeholders, experiments, decisions and ideas, and the people
who own, expect and vote them (PMs, an engineering lead, sales and finance), so the owners,
stakeholders and voters are not all the admin.

Everything goes through the services, so every guard of the lifecycle holds and the history
rows and Decisions exist. Two things are then adjusted on the rows, and only here:
- the timestamps (created, decided, history) are moved back to the simulated day each
  step happened, so the decision log reads like a year of work, not one second;
- the expected change of a measured initiative is derived from the demo's generated data
  (as strategy/demo.py derives key-result targets), so its realization lands where the
  spec aims (60–140 %, or a flop) whatever the day the demo is seeded.
The releases of the big measured initiatives are the release days of strategy/demo.py's
RELEASES, where the series step.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import Role, Team, User, Workspace
from accounts.services import member_add, user_get_or_create
from initiatives.jobs import measured_rationale
from initiatives.models import (
    Decision,
    ExperimentMethod,
    ExperimentResult,
    Idea,
    Initiative,
    Status,
)
from initiatives.selectors import impacts_for
from initiatives.services import (
    alignment_create,
    decision_record,
    expected_impact_create,
    expected_impact_update,
    experiment_create,
    idea_decline,
    idea_promote,
    idea_review,
    idea_submit,
    idea_vote,
    initiative_create,
    initiative_transition,
    stakeholder_add,
)
from strategy.demo import RELEASES
from strategy.models import Metric, Objective

# The demo's product objectives (strategy/demo.py), by a short name.
TRIALS = "Trials that convert: a first dashboard in ten minutes"
MID_MARKET = "Win and expand mid-market accounts"
HABIT = "Make Acme a weekly habit"
RETENTION = "Fewer reasons to leave"
SUPPORT = "Support that answers the first time"
COST = "Halve the cost to serve a team"
PRICING = "Pricing that grows with usage"

GROWTH, CORE, PLATFORM = "Growth", "Core Product", "Platform"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str


# The people of the portfolio besides the admin ("ada", who logs in): they own initiatives,
# expect things of them, bring and vote ideas. They are created without a password, so
# nobody logs in as them.
PEOPLE: dict[str, Person] = {
    "priya": Person("priya.patel@acme.example", "Priya Patel", Role.EDITOR),  # PM, Growth
    "marco": Person("marco.rossi@acme.example", "Marco Rossi", Role.EDITOR),  # PM, Core
    "jonas": Person("jonas.berg@acme.example", "Jonas Berg", Role.EDITOR),  # engineering lead
    "sam": Person("sam.okafor@acme.example", "Sam Okafor", Role.VIEWER),  # head of sales
    "lena": Person("lena.fischer@acme.example", "Lena Fischer", Role.VIEWER),  # finance lead
}
ADMIN = "ada"
# Who owns a team's initiatives unless its spec names someone else.
TEAM_OWNERS = {GROWTH: "priya", CORE: "marco", PLATFORM: "jonas"}


@dataclass(frozen=True)
class Impact:
    metric: str
    expected: str  # in metric units, positive = better
    confidence: int = 50
    attribution: int = 100
    # For a measured initiative: the realization to show. The expected change is derived
    # from the data (realized change / aim); `expected` stays when the metric moved the
    # wrong way (then it is a flop anyway).
    aim: str | None = None


@dataclass(frozen=True)
class Experiment:
    hypothesis: str
    method: str
    success_criteria: str
    started_days_ago: int
    days: int | None  # None: still running
    result: str = ExperimentResult.PENDING
    learnings: str = ""
    metric: str | None = None


@dataclass(frozen=True)
class Spec:
    title: str
    status: str
    team: str
    summary: str
    created_days_ago: int
    problem: str = ""
    hypothesis: str = ""
    kind: str = "strategic"
    tactical_rationale: str = ""
    horizon: str = "next"
    effort_weeks: str | None = None
    confidence: int = 50
    reach: int | None = None
    rice_impact: str | None = None
    released_days_ago: int | None = None
    alignments: tuple[tuple[str, int, str], ...] = ()
    impacts: tuple[Impact, ...] = ()
    rationale: str = ""  # of a decline or cancellation
    revisit_in_days: int | None = None
    pivot: str = ""  # committed, then back to discovery with this rationale
    discovery: bool = True  # goes through discovery before it is committed
    owner: str | None = None  # a key of PEOPLE or ADMIN; default: the team's owner
    stakeholders: tuple[tuple[str, str, str], ...] = ()  # (person, role, expectation)
    experiments: tuple[Experiment, ...] = ()


def _released(name: str) -> int:
    return RELEASES[name].days_ago


INITIATIVES: tuple[Spec, ...] = (
    # --- measured: the releases that moved the demo's metrics, and two flops -----------------
    Spec(
        title=RELEASES["onboarding"].name,
        status=Status.MEASURED,
        team=GROWTH,
        summary="A guided first session: connect a sample source, pick a template, share it.",
        problem="Two trials in three never built a dashboard; they left before seeing value.",
        hypothesis=(
            "We believe a guided first session with sample data will get trials to a first "
            "dashboard in ten minutes; we will know when trial-to-paid conversion rises."
        ),
        horizon="now",
        effort_weeks="8",
        confidence=60,
        reach=3800,
        rice_impact="2",
        created_days_ago=_released("onboarding") + 110,
        released_days_ago=_released("onboarding"),
        alignments=((TRIALS, 100, "The first ten minutes decide the trial."),),
        impacts=(
            Impact("signups", "300", confidence=50, attribution=80, aim="1.1"),
            Impact("trial-conversion", "0.3", confidence=60, attribution=70, aim="0.9"),
        ),
        stakeholders=(
            ("sam", "sponsor", "Trials that see their own data on day one, and say so."),
        ),
        experiments=(
            Experiment(
                hypothesis="A checklist with sample data gets a trial to a dashboard faster.",
                method=ExperimentMethod.AB_TEST,
                metric="trial-conversion",
                success_criteria="+0.3 points of trial-to-paid at 95% confidence in 4 weeks.",
                started_days_ago=_released("onboarding") + 40,
                days=28,
                result=ExperimentResult.VALIDATED,
                learnings=(
                    "The sample data did most of the work: the checklist alone moved "
                    "nothing, the checklist with sample data +0.4 points."
                ),
            ),
        ),
    ),
    Spec(
        title=RELEASES["scheduled_reports"].name,
        status=Status.MEASURED,
        team=CORE,
        summary="Any dashboard as a weekly e-mail or Slack post; alerts when a number breaks.",
        problem="Teams open Acme when they remember to; most weeks they don't.",
        hypothesis=(
            "We believe reports that arrive on their own will make Acme a weekly habit; we "
            "will know when weekly active teams grow and fewer accounts churn."
        ),
        horizon="now",
        effort_weeks="10",
        confidence=55,
        reach=2600,
        rice_impact="2",
        created_days_ago=_released("scheduled_reports") + 130,
        released_days_ago=_released("scheduled_reports"),
        alignments=(
            (HABIT, 70, "Reports bring teams back without a reminder."),
            (RETENTION, 30, "Accounts that read a weekly report rarely cancel."),
        ),
        impacts=(
            Impact("weekly-active-teams", "30", confidence=60, attribution=80, aim="1.2"),
            Impact("logo-churn", "0.1", confidence=40, attribution=60, aim="0.8"),
            Impact("mrr", "3000", confidence=40, attribution=25, aim="0.7"),
        ),
        stakeholders=(
            ("ada", "sponsor", "The weekly business review of our customers runs on Acme."),
        ),
    ),
    Spec(
        title=RELEASES["query_engine"].name,
        status=Status.MEASURED,
        team=PLATFORM,
        summary="A columnar cache in front of customer warehouses; the planner picks it.",
        problem="Every dashboard load hit the customer's warehouse: slow for them, costly for us.",
        hypothesis=(
            "We believe a columnar cache will halve load times and the cloud bill per team; "
            "we will know when p95 load time and infrastructure cost per team fall."
        ),
        horizon="now",
        effort_weeks="14",
        confidence=50,
        reach=4000,
        rice_impact="1",
        created_days_ago=_released("query_engine") + 150,
        released_days_ago=_released("query_engine"),
        alignments=((COST, 100, "The engine carries the load, not more servers."),),
        impacts=(
            Impact("infra-cost-per-team", "4", confidence=60, attribution=90, aim="1.05"),
            Impact("dashboard-load-p95", "250", confidence=60, attribution=100, aim="1.3"),
        ),
        stakeholders=(
            ("lena", "sponsor", "The cloud bill per team down by a third, and staying there."),
            ("sam", "informed", "No customer notices the migration, except that it is faster."),
        ),
    ),
    Spec(
        title=RELEASES["help_center"].name,
        status=Status.MEASURED,
        team=CORE,
        summary="Answers from the help center inside the product, before a ticket is opened.",
        problem="Half of all tickets ask what the docs already answer.",
        hypothesis=(
            "We believe answers in the product will deflect a third of tickets; we will know "
            "when support cost falls while CSAT holds."
        ),
        horizon="now",
        effort_weeks="6",
        confidence=60,
        reach=1800,
        rice_impact="1",
        created_days_ago=_released("help_center") + 90,
        released_days_ago=_released("help_center"),
        alignments=(
            (SUPPORT, 80, "Answers in the product first."),
            (RETENTION, 20, "Stuck admins are the ones who cancel."),
        ),
        impacts=(
            Impact("support-cost", "30000", confidence=60, attribution=90, aim="1.15"),
            Impact("csat", "1", confidence=50, attribution=80, aim="0.85"),
            Impact("logo-churn", "0.05", confidence=30, attribution=40, aim="0.75"),
        ),
        stakeholders=(
            (
                "lena",
                "consulted",
                "Support cost per account falls, and CSAT does not fall with it.",
            ),
        ),
        experiments=(
            Experiment(
                hypothesis="Admins read a suggested article instead of filing a ticket.",
                method=ExperimentMethod.PROTOTYPE,
                metric="support-cost",
                success_criteria="A third of the prototype's users close the ticket form.",
                started_days_ago=_released("help_center") + 60,
                days=21,
                result=ExperimentResult.VALIDATED,
                learnings="38% closed the form; billing questions still need a person.",
            ),
        ),
    ),
    Spec(
        title="Salesforce connector",
        status=Status.MEASURED,
        team=GROWTH,
        summary="Pipeline and revenue dashboards straight from Salesforce, no warehouse needed.",
        problem="Sales-led teams lost in trials because their CRM was not a source.",
        hypothesis=(
            "We believe a native Salesforce connector will win revenue teams; we will know "
            "when MRR from them grows."
        ),
        effort_weeks="7",
        confidence=50,
        reach=900,
        rice_impact="1",
        created_days_ago=430,
        released_days_ago=320,
        alignments=((MID_MARKET, 100, "Revenue teams are the mid-market's first buyers."),),
        impacts=(Impact("mrr", "4000", confidence=50, attribution=20, aim="0.8"),),
        stakeholders=(
            ("sam", "sponsor", "The connector mid-market prospects ask for in the first call."),
        ),
    ),
    Spec(
        title="Annual billing in self-serve checkout",
        status=Status.MEASURED,
        team=GROWTH,
        summary="Pay yearly with two months free, without talking to sales.",
        problem="Customers who wanted an annual invoice waited a week for a quote.",
        hypothesis=(
            "We believe annual plans in checkout will lift MRR and lock in customers; we "
            "will know when MRR grows."
        ),
        effort_weeks="3",
        confidence=60,
        reach=1200,
        rice_impact="0.5",
        discovery=False,
        created_days_ago=410,
        released_days_ago=360,
        alignments=((PRICING, 100, "Pricing that fits how customers buy."),),
        impacts=(Impact("mrr", "2500", confidence=60, attribution=15, aim="1.1"),),
        stakeholders=(
            ("lena", "sponsor", "Cash up front, and annual plans in MRR at their monthly share."),
        ),
    ),
    Spec(
        title="Partner marketplace listings",
        status=Status.MEASURED,
        team=GROWTH,
        owner="ada",
        summary="Acme listed in the AWS, Azure and Google Cloud marketplaces.",
        problem="Mid-market buyers want to buy on their cloud commitment.",
        hypothesis=(
            "We believe marketplace listings will win mid-market deals; we will know when our "
            "EU mid-market share grows."
        ),
        effort_weeks="5",
        confidence=40,
        reach=300,
        rice_impact="2",
        created_days_ago=300,
        released_days_ago=200,
        alignments=((MID_MARKET, 100, "Buying on a cloud commitment shortens procurement."),),
        # A flop: the share barely moved.
        impacts=(Impact("market-share", "0.6", confidence=40, attribution=50),),
        experiments=(
            Experiment(
                hypothesis="Listed, we appear in the shortlists of cloud-first buyers.",
                method=ExperimentMethod.OTHER,
                success_criteria="Five marketplace-sourced opportunities in the first quarter.",
                started_days_ago=200,
                days=90,
                result=ExperimentResult.INVALIDATED,
                learnings=(
                    "Listings brought visits, not contracts: buyers found us elsewhere first "
                    "and used the marketplace only to pay."
                ),
            ),
        ),
    ),
    Spec(
        title="AI chart suggestions",
        status=Status.MEASURED,
        team=CORE,
        summary="Suggest the right chart for a query's result.",
        problem="New users pick tables where a line chart would tell the story.",
        hypothesis=("We believe suggested charts will delight users; we will know when NPS rises."),
        effort_weeks="4",
        confidence=40,
        reach=3000,
        rice_impact="0.5",
        created_days_ago=220,
        released_days_ago=130,
        alignments=((HABIT, 50, "Better charts, more reasons to come back."),),
        # A flop: NPS did not notice.
        impacts=(Impact("nps", "5", confidence=40, attribution=60),),
    ),
    Spec(
        title="GDPR data-export automation",
        status=Status.MEASURED,
        team=PLATFORM,
        summary="Subject-access exports generated in minutes instead of an engineer's day.",
        kind="tactical",
        tactical_rationale=(
            "Legal obligation: a subject-access request must be answered within a month, "
            "and we had eleven open."
        ),
        effort_weeks="2",
        confidence=90,
        discovery=False,
        created_days_ago=250,
        released_days_ago=200,
    ),
    # --- released, still measuring -------------------------------------------------------
    Spec(
        title=RELEASES["usage_pricing"].name,
        status=Status.RELEASED,
        team=GROWTH,
        summary="A Team plan priced by queries run, with a free tier that never expires.",
        problem="Seat pricing made small teams share logins and big teams feel overcharged.",
        hypothesis=(
            "We believe usage-based pricing will let teams start small and grow; we will know "
            "when sign-ups, conversion and MRR rise together."
        ),
        horizon="now",
        effort_weeks="9",
        confidence=50,
        reach=3500,
        rice_impact="3",
        created_days_ago=_released("usage_pricing") + 140,
        released_days_ago=_released("usage_pricing"),
        alignments=(
            (PRICING, 60, "Teams pay more as they get more value."),
            (TRIALS, 30, "A free tier removes the trial's deadline."),
        ),
        impacts=(
            Impact("mrr", "12000", confidence=50, attribution=60),
            Impact("signups", "350", confidence=50, attribution=70),
            Impact("trial-conversion", "0.25", confidence=40, attribution=60),
        ),
        stakeholders=(
            ("lena", "sponsor", "Net revenue retention above 110% within two quarters."),
            ("sam", "consulted", "A price a prospect can work out without calling us."),
        ),
        experiments=(
            Experiment(
                hypothesis="Teams prefer a per-seat price with a usage add-on.",
                method=ExperimentMethod.SURVEY,
                success_criteria="Half of 200 surveyed admins prefer the hybrid.",
                started_days_ago=_released("usage_pricing") + 100,
                days=14,
                result=ExperimentResult.INVALIDATED,
                learnings=(
                    "Only 22% did: admins want one number that grows with use, not two. "
                    "We shipped pure usage pricing."
                ),
            ),
        ),
    ),
    Spec(
        title="Churn-risk alerts for account managers",
        status=Status.RELEASED,
        team=CORE,
        summary="A weekly list of accounts whose usage dropped, with the reason we see.",
        problem="We learn an account is unhappy when it cancels.",
        hypothesis=(
            "We believe early alerts on falling usage will let account managers save "
            "accounts; we will know when monthly logo churn falls."
        ),
        horizon="now",
        effort_weeks="4",
        confidence=60,
        reach=600,
        rice_impact="2",
        created_days_ago=120,
        released_days_ago=30,
        alignments=((RETENTION, 100, "Find what makes accounts cancel before they do."),),
        impacts=(Impact("logo-churn", "0.15", confidence=50, attribution=70),),
        stakeholders=(("sam", "sponsor", "Account managers call a customer before it cancels."),),
        experiments=(
            Experiment(
                hypothesis="Account managers act on a weekly list, not a dashboard.",
                method=ExperimentMethod.INTERVIEW,
                success_criteria="Six of eight account managers name the list as their trigger.",
                started_days_ago=100,
                days=10,
                result=ExperimentResult.VALIDATED,
                learnings="Seven of eight: they want the reason next to the name.",
            ),
        ),
    ),
    Spec(
        title="Slack app: dashboards in channels",
        status=Status.RELEASED,
        team=CORE,
        summary="Unfurl any dashboard in Slack; ask for a chart with /acme.",
        hypothesis=(
            "We believe dashboards where teams already talk will bring them back; we will "
            "know when weekly active teams grow."
        ),
        effort_weeks="5",
        confidence=50,
        reach=2000,
        rice_impact="1",
        created_days_ago=100,
        released_days_ago=12,
        alignments=((HABIT, 100, "Acme where the weekly conversation happens."),),
        impacts=(
            Impact("weekly-active-teams", "40", confidence=50, attribution=60),
            Impact("mrr", "1500", confidence=40, attribution=30),
        ),
    ),
    Spec(
        title="Admin usage report",
        status=Status.RELEASED,
        team=CORE,
        summary="A monthly report for workspace admins: who uses what, and what it saved.",
        hypothesis=(
            "We believe admins who see their team's usage will champion Acme; we will know "
            "when NPS among admins rises."
        ),
        effort_weeks="3",
        confidence=50,
        reach=1500,
        rice_impact="0.5",
        created_days_ago=150,
        released_days_ago=88,  # its window ends in two days: the hourly job measures it
        alignments=((RETENTION, 60, "Champions renew."),),
        impacts=(
            Impact("nps", "2", confidence=40),
            Impact("logo-churn", "0.05", confidence=30, attribution=30),
        ),
    ),
    # --- in delivery ----------------------------------------------------------------------
    Spec(
        title="SSO and SCIM for enterprise",
        status=Status.IN_DELIVERY,
        team=PLATFORM,
        summary="SAML single sign-on and SCIM provisioning with Okta, Entra ID and Google.",
        problem="Three mid-market deals stalled at the security review this quarter.",
        hypothesis=(
            "We believe SSO and SCIM will clear security reviews; we will know when "
            "mid-market MRR and our share grow."
        ),
        horizon="now",
        effort_weeks="10",
        confidence=60,
        reach=400,
        rice_impact="3",
        created_days_ago=90,
        alignments=(
            (MID_MARKET, 70, "Security reviews block mid-market deals."),
            (PRICING, 20, "SSO is the first feature of the Business plan."),
        ),
        impacts=(
            Impact("mrr", "9000", confidence=60, attribution=80),
            Impact("market-share", "0.2", confidence=30, attribution=50),
        ),
        stakeholders=(("sam", "sponsor", "Unblocks the three enterprise deals in the pipeline."),),
    ),
    Spec(
        title="Self-serve onboarding checklist v2",
        status=Status.IN_DELIVERY,
        team=GROWTH,
        summary="Role-based checklists: the analyst connects data, the manager invites a team.",
        hypothesis=(
            "We believe a checklist per role will get whole teams active in a trial; we will "
            "know when trial-to-paid conversion rises."
        ),
        horizon="now",
        effort_weeks="6",
        confidence=50,
        reach=3800,
        rice_impact="1",
        created_days_ago=70,
        alignments=((TRIALS, 100, "A trial converts when a team, not a person, uses it."),),
        impacts=(Impact("trial-conversion", "0.3", confidence=40, attribution=60),),
    ),
    Spec(
        title="Result cache for embedded dashboards",
        status=Status.IN_DELIVERY,
        team=PLATFORM,
        summary="Embedded dashboards served from the cache, refreshed on a schedule.",
        hypothesis=(
            "We believe caching embedded dashboards will cut warehouse load; we will know when "
            "the infrastructure cost per team falls."
        ),
        effort_weeks="5",
        confidence=70,
        reach=700,
        rice_impact="1",
        created_days_ago=60,
        alignments=((COST, 100, "Embedded views are a third of our queries."),),
        impacts=(
            Impact("infra-cost-per-team", "2", confidence=70, attribution=90),
            Impact("dashboard-load-p95", "150", confidence=60),
        ),
        stakeholders=(
            ("lena", "informed", "The cost per team keeps falling as embedded use grows."),
        ),
    ),
    Spec(
        title="Audit log for workspace admins",
        status=Status.IN_DELIVERY,
        team=PLATFORM,
        summary="Who changed what and when, exportable for compliance.",
        effort_weeks="4",
        confidence=50,
        reach=500,
        rice_impact="1",
        created_days_ago=50,
        alignments=((MID_MARKET, 60, "A checkbox on every mid-market security review."),),
        impacts=(Impact("mrr", "3000", confidence=50, attribution=40),),
        stakeholders=(
            ("sam", "informed", "The audit section of every security questionnaire answered yes."),
        ),
    ),
    Spec(
        title="Upgrade to PostgreSQL 16",
        status=Status.IN_DELIVERY,
        team=PLATFORM,
        summary="Move the metadata database off PostgreSQL 12 before its end of support.",
        kind="tactical",
        tactical_rationale="PostgreSQL 12 is out of support; the auditors flagged it.",
        horizon="now",
        effort_weeks="3",
        confidence=80,
        discovery=False,
        created_days_ago=40,
        impacts=(Impact("infra-cost-per-team", "0.5", confidence=60, attribution=100),),
    ),
    Spec(
        title="CSV export of more than a million rows",
        status=Status.IN_DELIVERY,
        team=CORE,
        summary="Stream large exports instead of building them in memory.",
        kind="tactical",
        tactical_rationale=(
            "Escalation from our largest customer (4% of MRR): their month-end export fails."
        ),
        horizon="now",
        effort_weeks="1",
        confidence=80,
        discovery=False,
        created_days_ago=20,
        impacts=(Impact("logo-churn", "0.05", confidence=70, attribution=100),),
    ),
    # --- committed ------------------------------------------------------------------------
    Spec(
        title="Support deflection bot",
        status=Status.COMMITTED,
        team=CORE,
        summary="A chat assistant that answers from the docs and the customer's own setup.",
        problem="Tickets grow with customers; agents answer the same twenty questions.",
        hypothesis=(
            "We believe a bot that knows the customer's setup will answer a third of "
            "questions; we will know when support cost falls and CSAT holds."
        ),
        horizon="now",
        effort_weeks="8",
        confidence=50,
        reach=1800,
        rice_impact="2",
        created_days_ago=45,
        alignments=((SUPPORT, 100, "Answers in the product first; a person when it matters."),),
        impacts=(
            Impact("support-cost", "25000", confidence=50, attribution=90),
            Impact("csat", "1.5", confidence=40, attribution=70),
        ),
        stakeholders=(
            (
                "lena",
                "consulted",
                "Support cost per ticket down, and agents keep the hard tickets.",
            ),
        ),
        experiments=(
            Experiment(
                hypothesis="The bot answers billing and connector questions correctly.",
                method=ExperimentMethod.PROTOTYPE,
                success_criteria="85% of 300 replayed tickets answered right, judged by agents.",
                started_days_ago=10,
                days=None,
            ),
        ),
    ),
    Spec(
        title="Overage alerts for usage-based plans",
        status=Status.COMMITTED,
        team=GROWTH,
        summary="Tell admins before a bill grows, and offer the plan that fits.",
        hypothesis=(
            "We believe warning before an overage will turn surprises into upgrades; we will "
            "know when MRR grows and fewer usage-plan accounts churn."
        ),
        effort_weeks="4",
        confidence=50,
        reach=1200,
        rice_impact="1",
        created_days_ago=35,
        alignments=(
            (PRICING, 70, "Never feel surprised."),
            (RETENTION, 30, "A surprise bill is a reason to leave."),
        ),
        impacts=(
            Impact("mrr", "4000", confidence=50, attribution=60),
            Impact("logo-churn", "0.1", confidence=40, attribution=50),
        ),
        stakeholders=(
            (
                "lena",
                "consulted",
                "No surprise invoices: customers hear of an overage before we bill it.",
            ),
        ),
    ),
    Spec(
        title="Dashboard templates gallery",
        status=Status.COMMITTED,
        team=GROWTH,
        summary="Forty ready-made dashboards for SaaS, e-commerce and finance, indexed by Google.",
        hypothesis=(
            "We believe templates found by search will bring trials that already know what "
            "they want; we will know when sign-ups and conversion rise."
        ),
        effort_weeks="5",
        confidence=40,
        reach=5000,
        rice_impact="1",
        created_days_ago=30,
        alignments=((TRIALS, 100, "Start from a dashboard that works."),),
        impacts=(
            Impact("signups", "400", confidence=40, attribution=80),
            Impact("trial-conversion", "0.15", confidence=40, attribution=50),
        ),
    ),
    Spec(
        title="Account health score",
        status=Status.COMMITTED,
        team=CORE,
        summary="One score per account from usage, tickets and billing, in the CRM.",
        effort_weeks="6",
        confidence=50,
        reach=800,
        rice_impact="1",
        created_days_ago=28,
        alignments=((RETENTION, 100, "Know which accounts to call."),),
        impacts=(
            Impact("logo-churn", "0.2", confidence=50, attribution=50),
            Impact("mrr", "2000", confidence=40, attribution=30),
        ),
    ),
    Spec(
        title="HubSpot connector",
        status=Status.COMMITTED,
        team=GROWTH,
        summary="Marketing and pipeline dashboards from HubSpot in two clicks.",
        effort_weeks="7",
        confidence=50,
        reach=1400,
        rice_impact="1",
        created_days_ago=25,
        alignments=((MID_MARKET, 60, "HubSpot is the mid-market's CRM."),),
        impacts=(
            Impact("signups", "250", confidence=50, attribution=60),
            Impact("mrr", "2500", confidence=40, attribution=40),
        ),
        stakeholders=(
            ("sam", "consulted", "Inbound leads from HubSpot shops stop asking for a workaround."),
        ),
    ),
    Spec(
        title="Sandbox workspaces for trials",
        status=Status.COMMITTED,
        team=GROWTH,
        summary="A trial starts in a workspace full of realistic data, not an empty page.",
        effort_weeks="4",
        confidence=30,
        reach=3800,
        rice_impact="0.5",
        created_days_ago=20,
        alignments=((TRIALS, 100, "Value before the first connection."),),
        impacts=(Impact("trial-conversion", "0.2", confidence=30, attribution=60),),
    ),
    # --- discovery --------------------------------------------------------------------------
    Spec(
        title="AI query assistant",
        status=Status.DISCOVERY,
        team=CORE,
        owner="ada",
        summary="Ask a question in words, get a chart and the SQL behind it.",
        problem="Business users wait days for an analyst to write a query.",
        hypothesis=(
            "We believe questions in words will open Acme to business users; we will know "
            "when weekly active teams grow."
        ),
        horizon="next",
        effort_weeks="12",
        confidence=30,
        reach=4000,
        rice_impact="3",
        created_days_ago=60,
        alignments=((HABIT, 80, "Everyone in a team can ask."),),
        impacts=(Impact("weekly-active-teams", "60", confidence=30, attribution=60),),
        experiments=(
            Experiment(
                hypothesis="Business users click “Ask in words” when it is offered.",
                method=ExperimentMethod.FAKE_DOOR,
                success_criteria="10% of viewers of a dashboard click it in two weeks.",
                started_days_ago=30,
                days=14,
                result=ExperimentResult.INCONCLUSIVE,
                learnings=(
                    "6% clicked, but mostly analysts; business users ask their analyst in "
                    "Slack. Next: test the assistant inside the Slack app."
                ),
            ),
        ),
    ),
    Spec(
        title="Forecasts on any metric",
        status=Status.DISCOVERY,
        team=CORE,
        summary="A forecast band on every time series, and an alert when reality leaves it.",
        effort_weeks="8",
        confidence=30,
        reach=2500,
        rice_impact="1",
        created_days_ago=40,
        alignments=((HABIT, 60, "A reason to look every week."),),
    ),
    Spec(
        title="Semantic layer: shared metric definitions",
        status=Status.DISCOVERY,
        team=PLATFORM,
        summary="Define revenue once; every dashboard and the API use the definition.",
        horizon="later",
        effort_weeks="16",
        confidence=30,
        reach=1500,
        rice_impact="2",
        created_days_ago=80,
    ),
    Spec(
        title="Team workspaces for agencies",
        status=Status.DISCOVERY,
        team=GROWTH,
        summary="One agency account, one workspace per client, billed together.",
        effort_weeks="6",
        confidence=40,
        reach=200,
        rice_impact="1",
        created_days_ago=110,
        alignments=((MID_MARKET, 40, "Agencies bring their clients."),),
        impacts=(Impact("mrr", "3000", confidence=30, attribution=60),),
        pivot=(
            "Interviews showed agencies want white-label reports more than shared billing; "
            "back to discovery to rescope."
        ),
    ),
    Spec(
        title="In-product referral program",
        status=Status.DISCOVERY,
        team=GROWTH,
        summary="A month free for both sides when a customer brings a team.",
        effort_weeks="3",
        confidence=40,
        reach=2000,
        rice_impact="0.5",
        created_days_ago=15,
    ),
    # --- proposed ---------------------------------------------------------------------------
    Spec(
        title="Mobile read-only app",
        status=Status.PROPOSED,
        team=CORE,
        owner="ada",
        summary="Dashboards and alerts on the phone, no editing.",
        horizon="later",
        effort_weeks="12",
        confidence=30,
        reach=1500,
        rice_impact="0.5",
        created_days_ago=75,
    ),
    Spec(
        title="dbt Cloud integration",
        status=Status.PROPOSED,
        team=PLATFORM,
        summary="Read dbt models and their docs as Acme datasets.",
        effort_weeks="5",
        confidence=50,
        reach=900,
        rice_impact="1",
        created_days_ago=22,
    ),
    Spec(
        title="Embedded analytics SDK",
        status=Status.PROPOSED,
        team=PLATFORM,
        owner="ada",
        summary="Our customers put Acme dashboards in their own product, themed.",
        horizon="later",
        effort_weeks="14",
        confidence=30,
        reach=300,
        rice_impact="3",
        created_days_ago=18,
    ),
    Spec(
        title="White-label reports for agencies",
        status=Status.PROPOSED,
        team=GROWTH,
        summary="Reports in the agency's brand, sent to its clients.",
        effort_weeks="4",
        confidence=40,
        reach=200,
        rice_impact="1",
        created_days_ago=8,
    ),
    # --- declined and cancelled ---------------------------------------------------------------
    Spec(
        title="EU data residency",
        status=Status.DECLINED,
        team=PLATFORM,
        summary="Keep all customer data in Frankfurt, with a separate EU deployment.",
        problem="Some EU prospects ask where their data lives.",
        effort_weeks="16",
        confidence=40,
        reach=150,
        rice_impact="2",
        created_days_ago=140,
        rationale=(
            "Only 3 of 40 lost deals named it, and a second region doubles on-call. Revisit "
            "when an enterprise pipeline of 1 M EUR depends on it."
        ),
        revisit_in_days=120,
        stakeholders=(
            ("sam", "consulted", "Sales can answer where the data lives in one sentence."),
        ),
    ),
    Spec(
        title="On-premise edition",
        status=Status.DECLINED,
        team=PLATFORM,
        summary="Acme as a package customers run in their own data center.",
        horizon="later",
        effort_weeks="30",
        confidence=20,
        reach=40,
        rice_impact="3",
        created_days_ago=200,
        rationale=(
            "Three releases a year, each installed differently: it would stop the cloud "
            "product for a dozen accounts. Bank deals go to partners instead."
        ),
        revisit_in_days=200,
    ),
    Spec(
        title="Free forever plan",
        status=Status.DECLINED,
        team=GROWTH,
        owner="ada",
        summary="A free plan with three dashboards and no time limit.",
        effort_weeks="3",
        confidence=40,
        reach=6000,
        rice_impact="1",
        created_days_ago=160,
        rationale=(
            "The usage-based Team plan has a free tier already; a second free plan would "
            "split the funnel. Check again once its first quarter is measured."
        ),
        revisit_in_days=5,  # the revisit reminder goes out within the week
        stakeholders=(
            ("lena", "consulted", "A free plan costs less to serve than the upgrades it brings."),
        ),
    ),
    Spec(
        title="Pay with crypto",
        status=Status.DECLINED,
        team=GROWTH,
        summary="Accept stablecoins at checkout.",
        effort_weeks="2",
        confidence=20,
        reach=20,
        rice_impact="0.25",
        created_days_ago=260,
        discovery=False,
        rationale="Two requests in a year, both from trials that never converted.",
    ),
    Spec(
        title="Rewrite the legacy PDF designer",
        status=Status.CANCELLED,
        team=CORE,
        summary="A new drag-and-drop designer for PDF reports.",
        effort_weeks="8",
        confidence=40,
        reach=600,
        rice_impact="0.5",
        created_days_ago=180,
        alignments=((HABIT, 30, "Reports people want to forward."),),
        impacts=(Impact("nps", "2", confidence=30, attribution=50),),
        rationale=(
            "Scheduled reports replaced most PDF use: 4% of accounts still open the "
            "designer. The team moves to the query engine."
        ),
    ),
)


@dataclass(frozen=True)
class IdeaSpec:
    title: str
    description: str
    source: str
    created_days_ago: int
    by: str = ADMIN  # who brought it: a key of PEOPLE or ADMIN
    voters: tuple[str, ...] = ()
    review: bool = False
    decline: str = ""
    revisit_in_days: int | None = None
    promote: bool = False
    decided_by: str = ADMIN  # who reviews, promotes or declines it


IDEAS: tuple[IdeaSpec, ...] = (
    IdeaSpec(
        "Slack digest of KPI changes",
        "Every Monday, the five numbers that moved most, in our channel.",
        "customer",
        50,
        by="sam",
        voters=("sam", "lena", "priya"),
        promote=True,
        decided_by="marco",
    ),
    IdeaSpec(
        "Alert when a metric leaves its forecast band",
        "We only look when something is off; tell us when it is.",
        "customer",
        40,
        by="marco",
        voters=("sam", "priya", "jonas", ADMIN),
        review=True,
        decided_by="marco",
    ),
    IdeaSpec(
        "Bulk-invite users from a CSV",
        "Onboarding a 200-person company one e-mail at a time takes an afternoon.",
        "support",
        33,
        by="priya",
        voters=("sam", "marco"),
    ),
    IdeaSpec(
        "Dashboard version history",
        "Someone deleted a chart and nobody knows what it showed.",
        "customer",
        27,
        by="marco",
    ),
    IdeaSpec(
        "Release annotations on every chart",
        "Show our releases as markers, so the board sees what moved the numbers.",
        "leadership",
        21,
        voters=("lena", "sam", "priya"),
    ),
    IdeaSpec(
        "Nonprofit discount",
        "Several charities asked; a public discount would save sales the back-and-forth.",
        "marketing",
        16,
        by="lena",
        voters=("sam",),
    ),
    IdeaSpec(
        "Enforce two-factor authentication for a workspace",
        "Asked in every security questionnaire after SSO.",
        "sales",
        12,
        by="sam",
        voters=("jonas", "lena", ADMIN, "marco"),
    ),
    IdeaSpec(
        "Explain query timeouts in plain words",
        "“Statement timeout” means nothing to a marketer; say what to change.",
        "support",
        6,
        by="jonas",
    ),
    IdeaSpec(
        "Dark mode",
        "For the analysts who live in Acme all day.",
        "customer",
        90,
        by="priya",
        voters=("marco",),
        decline=(
            "Nice to have, but no account churned or stalled over it; the design system "
            "work it needs is not planned this year."
        ),
        decided_by="marco",
    ),
    IdeaSpec(
        "Live sync to Google Sheets",
        "Finance wants the numbers in their own sheet, always fresh.",
        "sales",
        70,
        by="sam",
        voters=("lena", "sam"),
        decline=(
            "The Sheets API quota allows a refresh an hour at most, which would be 'live' "
            "only in name; CSV schedules cover the need for now."
        ),
        revisit_in_days=60,
    ),
)


@dataclass(frozen=True)
class HandDecision:
    rationale: str
    kind: str
    days_ago: int
    initiative: str | None = None
    revisit_in_days: int | None = None
    by: str = ADMIN


DECISIONS: tuple[HandDecision, ...] = (
    HandDecision(
        "Defer the mobile app until weekly active teams pass 1,000: few admins read "
        "dashboards on the phone today.",
        "defer",
        30,
        initiative="Mobile read-only app",
        revisit_in_days=90,
    ),
    HandDecision(
        "No new connectors this quarter beyond HubSpot: the platform team finishes the "
        "embedded cache first.",
        "other",
        25,
        by="jonas",
    ),
)


@dataclass
class SeedSummary:
    initiatives: int = 0
    measured: int = 0
    ideas: int = 0
    decisions: int = 0
    experiments: int = 0

    def __str__(self) -> str:
        return (
            f"{self.initiatives} initiatives ({self.measured} measured), {self.ideas} ideas, "
            f"{self.experiments} experiments, {self.decisions} decisions"
        )


def seed_initiatives(*, workspace: Workspace, admin: User, today: date) -> SeedSummary | None:
    """Creates the demo portfolio with its people (PEOPLE, made members of the workspace,
    and `admin`), dated back from `today`, the workspace's today (the services judge
    release and revisit dates by the real clock). Needs the demo strategy (its metrics and
    objectives). A workspace that already has initiatives or ideas keeps what it has, its
    members too: returns None and creates nothing."""
    if (
        Initiative.objects.filter(workspace=workspace).exists()
        or Idea.objects.filter(workspace=workspace).exists()
    ):
        return None
    with transaction.atomic():
        people = {ADMIN: admin} | {
            key: _member(workspace, person) for key, person in PEOPLE.items()
        }
        seeder = _Seeder(workspace=workspace, people=people, today=today)
        for spec in INITIATIVES:
            seeder.initiative(spec)
        for idea in IDEAS:
            seeder.idea(idea)
        for decision in DECISIONS:
            seeder.hand_decision(decision)
    summary = seeder.summary
    summary.decisions = Decision.objects.filter(workspace=workspace).count()
    return summary


def _member(workspace: Workspace, person: Person) -> User:
    """The person as a member of the workspace, with their name and no usable password."""
    user_get_or_create(email=person.email, full_name=person.name)
    membership, _ = member_add(workspace=workspace, email=person.email, role=person.role)
    return membership.user


class _Seeder:
    def __init__(self, *, workspace: Workspace, people: dict[str, User], today: date) -> None:
        self.workspace = workspace
        self.people = people
        self.today = today
        self.zone = ZoneInfo(workspace.timezone)
        self.teams = {t.name: t for t in Team.objects.filter(workspace=workspace)}
        self.objectives = {o.title: o for o in Objective.objects.filter(workspace=workspace)}
        self.metrics = {m.key: m for m in Metric.objects.filter(workspace=workspace)}
        self.by_title: dict[str, Initiative] = {}
        self.summary = SeedSummary()

    def at(self, days_ago: int, minute: int = 0) -> datetime:
        """A working-day moment `days_ago` days before today, in the workspace's zone."""
        day = self.today - timedelta(days=days_ago)
        return datetime.combine(day, time(10, minute), tzinfo=self.zone)

    # --- initiatives ------------------------------------------------------------------

    def initiative(self, spec: Spec) -> None:
        owner = self.people[spec.owner or TEAM_OWNERS[spec.team]]
        initiative = initiative_create(
            workspace=self.workspace,
            by=owner,
            title=spec.title,
            summary=spec.summary,
            problem=spec.problem,
            hypothesis=spec.hypothesis,
            team=self.teams.get(spec.team),
            owner=owner,
            kind=spec.kind,
            tactical_rationale=spec.tactical_rationale,
            horizon=spec.horizon,
            effort_weeks=Decimal(spec.effort_weeks) if spec.effort_weeks else None,
            confidence=spec.confidence,
            reach=spec.reach,
            impact=Decimal(spec.rice_impact) if spec.rice_impact else None,
            start_on=self.today - timedelta(days=spec.created_days_ago),
        )
        for title, weight, rationale in spec.alignments:
            alignment_create(
                initiative=initiative,
                objective=self.objectives[title],
                weight=weight,
                rationale=rationale,
            )
        for impact in spec.impacts:
            expected_impact_create(
                initiative=initiative,
                metric=self.metrics[impact.metric],
                expected_change=Decimal(impact.expected),
                confidence=impact.confidence,
                attribution=impact.attribution,
            )
        for person, role, expectation in spec.stakeholders:
            stakeholder_add(
                initiative=initiative,
                user=self.people[person],
                role=role,
                expectation=expectation,
            )
        steps = self._walk(initiative, spec)
        if spec.status == Status.MEASURED:
            self._aim(initiative, spec)
            self.summary.measured += 1
        for experiment in spec.experiments:
            self._experiment(initiative, experiment)
        self._backdate(initiative, self.at(spec.created_days_ago), steps)
        self.by_title[spec.title] = initiative
        self.summary.initiatives += 1

    def _path(self, spec: Spec) -> list[str]:
        """The statuses an initiative passes through after proposed to reach its own."""
        start: list[str] = [Status.DISCOVERY] if spec.discovery else []
        delivered = [*start, Status.COMMITTED, Status.IN_DELIVERY]
        paths: dict[str, list[str]] = {
            Status.PROPOSED: [],
            Status.DISCOVERY: (
                [Status.COMMITTED, Status.DISCOVERY] if spec.pivot else [Status.DISCOVERY]
            ),
            Status.COMMITTED: [*start, Status.COMMITTED],
            Status.IN_DELIVERY: delivered,
            Status.RELEASED: [*delivered, Status.RELEASED],
            Status.MEASURED: [*delivered, Status.RELEASED, Status.MEASURED],
            Status.DECLINED: [*start, Status.DECLINED],
            Status.CANCELLED: [Status.COMMITTED, Status.CANCELLED],
        }
        return paths[spec.status]

    def _walk(self, initiative: Initiative, spec: Spec) -> list[datetime]:
        """Moves the initiative along its path through `initiative_transition`, its owner
        deciding; returns the simulated moment of each step."""
        path = self._path(spec)
        released_on = (
            self.today - timedelta(days=spec.released_days_ago)
            if spec.released_days_ago is not None
            else None
        )
        # Steps before the release spread evenly from creation to the release (or to a few
        # days ago); the release and the measurement happen on their own days.
        before = [s for s in path if s not in (Status.RELEASED, Status.MEASURED)]
        last_day = spec.released_days_ago + 1 if spec.released_days_ago else 2
        span = max(spec.created_days_ago - last_day, len(before))
        moments = []
        for index, to in enumerate(path):
            rationale = ""
            revisit_on = None
            if to == Status.RELEASED:
                moment = self.at(spec.released_days_ago or 0, index)
            elif to == Status.MEASURED:
                initiative.refresh_from_db(fields=["released_on", "status"])
                rationale = measured_rationale(initiative)
                ends = (spec.released_days_ago or 0) - initiative.measurement_window_days
                moment = self.at(ends, index)
            else:
                step = (index + 1) * span // (len(before) + 1)
                moment = self.at(spec.created_days_ago - step, index)
                if to == Status.DISCOVERY and spec.pivot and index > 0:
                    rationale = spec.pivot
                elif to in (Status.DECLINED, Status.CANCELLED):
                    rationale = spec.rationale
                    if spec.revisit_in_days is not None:
                        revisit_on = self.today + timedelta(days=spec.revisit_in_days)
            initiative_transition(
                initiative=initiative,
                to=to,
                rationale=rationale,
                by=None if to == Status.MEASURED else initiative.owner,  # the system measures
                released_on=released_on if to == Status.RELEASED else None,
                revisit_on=revisit_on,
            )
            moments.append(moment)
        return moments

    def _aim(self, initiative: Initiative, spec: Spec) -> None:
        """Sets the expected change of each impact with an aim to realized change / aim, so
        the realization shown is the aim (to two significant digits)."""
        initiative.refresh_from_db()
        aims = {i.metric: Decimal(i.aim) for i in spec.impacts if i.aim is not None}
        if not aims:
            return
        for impact, figures in impacts_for(initiatives=[initiative], today=self.today)[
            initiative.pk
        ]:
            aim = aims.get(impact.metric.key)
            realized = figures.realized_change
            if aim is None or realized is None or realized <= 0:
                continue
            expected_impact_update(impact=impact, expected_change=_two_digits(realized / aim))

    def _experiment(self, initiative: Initiative, spec: Experiment) -> None:
        started_on = self.today - timedelta(days=spec.started_days_ago)
        experiment_create(
            initiative=initiative,
            hypothesis=spec.hypothesis,
            method=spec.method,
            metric=self.metrics[spec.metric] if spec.metric else None,
            success_criteria=spec.success_criteria,
            started_on=started_on,
            ended_on=started_on + timedelta(days=spec.days) if spec.days is not None else None,
            result=spec.result,
            learnings=spec.learnings,
        )
        self.summary.experiments += 1

    def _backdate(self, initiative: Initiative, created: datetime, steps: list[datetime]) -> None:
        """Moves the timestamps the services wrote (now) to the simulated days: creation,
        each Decision, and the history row of each change."""
        Initiative.objects.filter(pk=initiative.pk).update(
            created_at=created, updated_at=steps[-1] if steps else created
        )
        decisions = list(Decision.objects.filter(initiative=initiative).order_by("id"))
        for decision, moment in zip(decisions, steps, strict=True):
            decision.decided_at = moment
        Decision.objects.bulk_update(decisions, ["decided_at"])
        history = list(initiative.history.order_by("history_id"))
        for record, moment in zip(history, [created, *steps], strict=True):
            record.history_date = moment
        Initiative.history.model.objects.bulk_update(history, ["history_date"])

    # --- ideas and decisions by hand ----------------------------------------------------

    def idea(self, spec: IdeaSpec) -> None:
        idea = idea_submit(
            workspace=self.workspace,
            by=self.people[spec.by],
            title=spec.title,
            description=spec.description,
            source=spec.source,
        )
        for voter in spec.voters:
            idea_vote(idea=idea, by=self.people[voter])
        decider = self.people[spec.decided_by]
        if spec.review:
            idea_review(idea=idea, by=decider)
        if spec.promote:
            promoted = idea_promote(idea=idea, by=decider)
            moment = self.at(spec.created_days_ago - 7)
            Initiative.objects.filter(pk=promoted.pk).update(created_at=moment, updated_at=moment)
            promoted.history.update(history_date=moment)
            self.summary.initiatives += 1
        if spec.decline:
            revisit_on = (
                self.today + timedelta(days=spec.revisit_in_days)
                if spec.revisit_in_days is not None
                else None
            )
            idea_decline(idea=idea, by=decider, reason=spec.decline, revisit_on=revisit_on)
            Idea.objects.filter(pk=idea.pk).update(
                declined_at=self.at(max(spec.created_days_ago - 10, 1))
            )
        Idea.objects.filter(pk=idea.pk).update(created_at=self.at(spec.created_days_ago))
        self.summary.ideas += 1

    def hand_decision(self, spec: HandDecision) -> None:
        decision = decision_record(
            workspace=self.workspace,
            by=self.people[spec.by],
            kind=spec.kind,
            rationale=spec.rationale,
            initiative=self.by_title[spec.initiative] if spec.initiative else None,
            revisit_on=(
                self.today + timedelta(days=spec.revisit_in_days)
                if spec.revisit_in_days is not None
                else None
            ),
        )
        Decision.objects.filter(pk=decision.pk).update(decided_at=self.at(spec.days_ago))


def _two_digits(value: Decimal) -> Decimal:
    """`value` rounded to two significant digits (at most 4 decimal places)."""
    exponent = max(value.adjusted() - 1, -4)
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
