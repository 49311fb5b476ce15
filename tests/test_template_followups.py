"""The stack's part for issue 17: a schedule group, a role that may invoke only the campaign function, the
campaign function's right to manage those schedules, and the web function's right to enqueue promotions."""

from __future__ import annotations

from test_template import TEMPLATE, translated, yaml_parse  # noqa: F401 - the module fixture


def test_schedules_run_as_a_role_that_may_invoke_only_the_campaign_function(translated):  # noqa: F811
    resources = translated[0]["Resources"]
    assert resources["CampaignSchedules"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    role = resources["SchedulerInvokeRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    statements = [st for p in role["Policies"] for st in p["PolicyDocument"]["Statement"]]
    assert statements == [{"Sid": "InvokeCampaignFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                           "Resource": {"Fn::GetAtt": ["CampaignFunction", "Arn"]}}]
    env = resources["CampaignFunction"]["Properties"]["Environment"]["Variables"]
    assert "envois-programmes" in str(env["CONVIER_SCHEDULE_GROUP"])
    assert "envois-programmes" in str(env["CONVIER_SCHEDULER_ROLE_ARN"])


def test_the_campaign_function_manages_its_schedules_and_the_web_function_enqueues_promotions(translated):  # noqa: F811
    resources = translated[0]["Resources"]
    policy = resources["CampaignSchedulingPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "CampaignFunctionRole"}, {"Ref": "ConsoleFunctionRole"}]
    by_sid = {st["Sid"]: st for st in policy["PolicyDocument"]["Statement"]}
    assert "schedule/${CampaignSchedules}/*" in str(by_sid["Schedules"]["Resource"])
    assert by_sid["PassTheSchedulerRole"]["Resource"] == {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]}
    assert by_sid["ScheduleItems"]["Resource"] == {"Fn::GetAtt": ["Table", "Arn"]}
    web = resources["WebPromotionPolicy"]["Properties"]
    assert web["Roles"] == [{"Ref": "WebFunctionRole"}]
    assert web["PolicyDocument"]["Statement"] == [{"Sid": "EnqueuePromotionEmails", "Effect": "Allow",
                                                  "Action": "sqs:SendMessage",
                                                  "Resource": {"Fn::GetAtt": ["SendQueue", "Arn"]}}]
    assert "WebPromotionPolicy" in TEMPLATE.read_text() and yaml_parse


def test_the_console_schedules_into_the_same_group_with_the_same_role_and_target(translated):  # noqa: F811
    """The console's « Programmer » (handlers/console/kit.aws_scheduler) needs all three, or it refuses to schedule."""
    resources = translated[0]["Resources"]
    console = resources["ConsoleFunction"]["Properties"]["Environment"]["Variables"]
    campaign = resources["CampaignFunction"]["Properties"]["Environment"]["Variables"]
    for name in ("CONVIER_SCHEDULE_GROUP", "CONVIER_SCHEDULER_ROLE_ARN"):
        assert console[name] == campaign[name], name
    name = resources["CampaignFunction"]["Properties"]["FunctionName"]["Fn::Sub"]
    assert console["CONVIER_CAMPAIGN_FUNCTION_ARN"]["Fn::Sub"].endswith(f":function:{name}")
    group = resources["CampaignSchedules"]["Properties"]["Name"]
    role = resources["SchedulerInvokeRole"]["Properties"]["RoleName"]
    assert group == console["CONVIER_SCHEDULE_GROUP"]
    assert str(role["Fn::Sub"]).split("}")[-1] in str(console["CONVIER_SCHEDULER_ROLE_ARN"])
    policy = resources["CampaignSchedulingPolicy"]["Properties"]
    assert {"Ref": "ConsoleFunctionRole"} in policy["Roles"]
