"""The annual survey campaign: who is asked, their personalised blanks, who answered.

[seed 002 QP-14 4.1, 顾客满意度评价控制程序 5.3–5.4, LX-QP-11; SPEC §4.6]

1. `read_customer_list` (`qmsforms.campaign.customer_list`) reads the customer list workbook
   (客户一览表): customer, code, annual order value, automotive yes/no, Chinese or English
   headers, values normalised as on the forms.
2. `plan_campaign` (`.plan`) applies the sampling rule of the survey policy's ``[campaign]`` table:
   each customer falls in the first tier its order value reaches (> 500,000; 200,000–500,000
   inclusive; below); a tier's sample is its rate × its customers **rounded up**, so the share
   surveyed is never below the rate and a non-empty tier is never skipped. Automotive customers
   are always surveyed and count toward their tier's sample; the rest of the sample is drawn
   with ``random.Random(seed)`` from the tier's customers sorted by code and name, so the same
   list and seed give the same choice. When the total is below the minimum (10), the largest
   customers by order value not yet chosen are added until it is reached or nobody is left.
   The plan — seed, rule, the list's SHA-256 and every decision — is written to
   ``outbox/campaigns/<year>/plan.json`` (`.store`).
3. `issue_campaign` (`.issue`) issues one personalised blank per chosen customer (customer, code and
   period pre-filled) into ``outbox/campaigns/<year>/blanks/``, records each instance id as
   issued in the ledger and in the plan.
4. `campaign_status` (`.status`) matches returned survey records to the issued blanks by
   instance id and gives the return rate against the policy's target, and who to chase.
"""

from __future__ import annotations

from .customer_list import CustomerEntry, CustomerListError, read_customer_list
from .issue import issue_campaign
from .plan import (
    PLAN_VERSION,
    SURVEY_FORM,
    CampaignError,
    CampaignPlan,
    Choice,
    IssuedBlank,
    TierSummary,
    plan_campaign,
    quota,
)
from .status import CampaignStatus, CustomerStatus, campaign_status
from .store import (
    campaign_dir,
    campaign_rule,
    load_plan,
    plan_from_list,
    plan_path,
    save_plan,
)

__all__ = [
    "PLAN_VERSION",
    "SURVEY_FORM",
    "CampaignError",
    "CampaignPlan",
    "CampaignStatus",
    "Choice",
    "CustomerEntry",
    "CustomerListError",
    "CustomerStatus",
    "IssuedBlank",
    "TierSummary",
    "campaign_dir",
    "campaign_rule",
    "campaign_status",
    "issue_campaign",
    "load_plan",
    "plan_campaign",
    "plan_from_list",
    "plan_path",
    "quota",
    "read_customer_list",
    "save_plan",
]
