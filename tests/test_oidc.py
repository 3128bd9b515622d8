"""E-mail of a signed-in user whose ID token has none (ProConnect): the provider's UserInfo, as a
signed JWT (checked) or JSON, called with the exposed access token, then remembered by the registry."""

from __future__ import annotations

import json

import pytest

from ptce_geo import oidc, registry, registry_review
from ptce_geo._errors import AccessDeniedError

CLIENT = {"client_id": "ptce-geo", "client_secret": "un-secret-de-test-assez-long-pour-hs256!!"}


@pytest.fixture
def provider(httpserver, fresh_data):
    from joserfc.jwk import RSAKey

    registry.ensure()
    oidc._metadata.cache_clear()
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    base = httpserver.url_for("")
    issuer = base.rstrip("/")
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json({
        "issuer": issuer, "userinfo_endpoint": f"{issuer}/userinfo", "jwks_uri": f"{issuer}/jwks"})
    httpserver.expect_request("/jwks").respond_with_json({"keys": [key.as_dict(private=False)]})
    config = {**CLIENT, "server_metadata_url": f"{issuer}/.well-known/openid-configuration"}
    return httpserver, key, issuer, config


def _jwt(claims: dict, key, alg: str = "RS256") -> str:
    from joserfc import jwt

    return jwt.encode({"alg": alg, "kid": "k1"} if alg == "RS256" else {"alg": alg}, claims, key)


def _answer(httpserver, body: str, content_type: str, status: int = 200) -> None:
    httpserver.expect_oneshot_request("/userinfo").respond_with_data(body, status=status, content_type=content_type)


def test_signed_userinfo_gives_the_email_which_is_remembered(provider):
    server, key, issuer, config = provider
    _answer(server, _jwt({"sub": "agent-42", "email": "Agent@Exemple.gouv.fr", "iss": issuer, "aud": "ptce-geo"}, key),
            "application/jwt")
    user = {"is_logged_in": True, "sub": "agent-42", "iss": issuer, "provider": "proconnect"}
    section = {"proconnect": config}
    assert oidc.signed_in_email(user, {"access": "jeton"}, section) == "agent@exemple.gouv.fr"
    [asked] = [req for req, _resp in server.log if req.path == "/userinfo"]
    assert asked.headers["Authorization"] == "Bearer jeton"
    # a later session: the access token has expired, the registry remembers the subject
    assert oidc.signed_in_email(user, {}, section) == "agent@exemple.gouv.fr"
    assert registry_review.remembered_email(issuer, "agent-42") == "agent@exemple.gouv.fr"


def test_hs256_userinfo_is_checked_with_the_client_secret(provider):
    from joserfc.jwk import OctKey

    server, _key, issuer, config = provider
    secret = OctKey.import_key(CLIENT["client_secret"])
    _answer(server, _jwt({"sub": "agent-7", "email": "a7@exemple.gouv.fr"}, secret, "HS256"), "application/jwt")
    user = {"sub": "agent-7", "iss": issuer}
    assert oidc.signed_in_email(user, {"access": "t"}, config) == "a7@exemple.gouv.fr"


def test_untrusted_answers_are_refused_and_nothing_is_remembered(provider):
    from joserfc.jwk import RSAKey

    server, key, issuer, config = provider
    user = {"sub": "agent-42", "iss": issuer}
    other_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    _answer(server, _jwt({"sub": "agent-42", "email": "x@exemple.fr"}, other_key), "application/jwt")
    with pytest.raises(AccessDeniedError, match="signature"):
        oidc.signed_in_email(user, {"access": "t"}, config)
    _answer(server, _jwt({"sub": "quelqu-un-d-autre", "email": "x@exemple.fr"}, key), "application/jwt")
    with pytest.raises(AccessDeniedError, match="autre personne"):
        oidc.signed_in_email(user, {"access": "t"}, config)
    _answer(server, json.dumps({"error": "invalid_token"}), "application/json", status=401)
    with pytest.raises(AccessDeniedError, match="HTTP 401"):
        oidc.signed_in_email(user, {"access": "t"}, config)
    assert registry_review.remembered_email(issuer, "agent-42") is None


def test_plain_json_userinfo_and_id_token_email(provider):
    server, _key, issuer, config = provider
    assert oidc.signed_in_email({"sub": "s", "email": "dans@le-jeton.fr"}, {}, config) == "dans@le-jeton.fr"
    assert oidc.signed_in_email({"sub": "s", "iss": issuer}, {}, config) is None  # no token, nothing known
    _answer(server, json.dumps({"sub": "s", "email": "json@exemple.fr"}), "application/json")
    assert oidc.signed_in_email({"sub": "s", "iss": issuer}, {"access": "t"}, config) == "json@exemple.fr"
