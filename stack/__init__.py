"""The chat's CloudFormation stack in troposphere, one module per part.

`make template` (``python build_template.py``) writes templates/chat.json from it.
Where each resource is declared:

    parameters.py    TopicRoot, MessageRetentionDays, EnableStream (+ StreamEnabled), JWT*,
                     EnablePointInTimeRecovery, SiteWebAclArn, SiteLogBucket
    data.py          MessagesTable, ConnectionsTable, ChatStream, StreamFailureQueue,
                     TokenSecret
    functions.py     FUNCTIONS (typed): per function its CodeKey parameter, LogGroup,
                     FunctionRole and Function; ArtifactsBucket; ChatStreamMapping
    auth.py          ChatAuthorizer, TokenFunctionUrl and their invoke permissions
    rules.py         one TopicRule (+ role) per iot_rules module; RuleErrors log and role
    rule_actions.py  ACTIONS: each iot_rules action -> TopicRule property, role
                     statement, resource permission
    site.py          SiteBucket (+ policy), SiteDistribution, its function, OAC, headers
    protection.py    TokenRequestsPerMinute, RateLimitTable, AsyncFailureQueue
    observability.py AlarmEmail (+ AlarmEmailGiven), AlarmTopic (+ subscription), the
                     rule-error metric filter, ALARMS, Dashboard
    outputs.py       the outputs the deploy tool reads
    encryption.py    StackKey (KMS) and every role's use of it
    build.py         assembles the parts, deletion policies, render, --check
    iam.py, logs.py  building blocks: ARNs, statements, roles; log groups
    findings.py      the checkov findings accepted on purpose, each with its reason
    scan.py          checkov on every generated template (`make lint`, tests)

The parts refer to each other by logical id (``Ref("ChatFunction")``), as
docs/internals.md names them. Importing the package needs lambdas/ on sys.path (the
rules and the stack read chatlib.contract), as build_template.py and pytest arrange.
"""
