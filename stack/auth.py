"""Who may connect: the IoT custom authorizer, and the public URL handing out guest tokens.

Browsers POST a name to the token function's URL, get a JWT, and connect with it; IoT
Core calls the authorizer function on every connect (README, "Architecture"). What
bounds their use is stack/protection.py's and the functions' reserved concurrency.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, iot
from troposphere import awslambda as lam

from stack.findings import PUBLIC_TOKEN_URL, skipped


def add_auth(t: Template) -> None:
    """ChatAuthorizer and IoT's permission to call it; TokenFunctionUrl and its two
    public permissions."""
    t.add_resource(
        iot.Authorizer(
            "ChatAuthorizer",
            AuthorizerName=Sub("${AWS::StackName}-authorizer"),
            AuthorizerFunctionArn=GetAtt("AuthorizerFunction", "Arn"),
            SigningDisabled=True,
            Status="ACTIVE",
            TokenKeyName="token",
            EnableCachingForHttp=False,
        )
    )
    t.add_resource(
        lam.Permission(
            "AuthorizerInvokePermission",
            FunctionName=GetAtt("AuthorizerFunction", "Arn"),
            Action="lambda:InvokeFunction",
            Principal="iot.amazonaws.com",
            SourceArn=GetAtt("ChatAuthorizer", "Arn"),
            SourceAccount=Ref("AWS::AccountId"),
        )
    )
    t.add_resource(
        lam.Url(
            "TokenFunctionUrl",
            TargetFunctionArn=GetAtt("TokenFunction", "Arn"),
            AuthType="NONE",
            # Browsers may read tokens from the chat's own site only, so another site cannot
            # have its visitors mint tokens; other callers meet the rate limits. Lambda
            # answers the preflight and adds the CORS headers itself, so the token function
            # has no CORS code (emulator/http/cors.py does the same).
            Cors=lam.Cors(
                AllowOrigins=[Sub("https://${SiteDistribution.DomainName}")],
                AllowMethods=["POST"],
                AllowHeaders=["content-type"],
                ExposeHeaders=["retry-after"],  # a rate-limited page knows when to ask again
                MaxAge=600,
            ),
            Metadata=skipped(PUBLIC_TOKEN_URL),
        )
    )
    # A public URL needs both: InvokeFunctionUrl, and (since AWS's 2025 change)
    # InvokeFunction, here limited to calls that come through the URL.
    t.add_resource(
        lam.Permission(
            "TokenUrlInvokeUrlPermission",
            FunctionName=Ref("TokenFunction"),
            Action="lambda:InvokeFunctionUrl",
            Principal="*",
            FunctionUrlAuthType="NONE",
        )
    )
    t.add_resource(
        lam.Permission(
            "TokenUrlInvokeFunctionPermission",
            FunctionName=Ref("TokenFunction"),
            Action="lambda:InvokeFunction",
            Principal="*",
            InvokedViaFunctionUrl=True,
        )
    )
