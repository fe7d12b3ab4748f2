//! A relying party nobody here wrote: the `openidconnect` crate discovers the auth server, sends
//! a person through sign-in and consent (spoken over HTTP by the test's browser), exchanges the
//! code with PKCE, verifies the ID token against the published keys, asks userinfo and refreshes;
//! then does it all again after `auth-server rotate-signing-key`.

use std::collections::HashMap;

use openidconnect::core::{
    CoreClient, CoreIdToken, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims,
};
use openidconnect::{
    reqwest, AccessTokenHash, Audience, AuthenticationFlow, AuthorizationCode, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKey,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use test_support::seed::{self, SeededClient};
use test_support::{on_both_backends, TestDatabase};

use crate::browser::{sign_in_and_approve, Browser};
use crate::helpers::*;
use crate::signing_keys::rotate;

on_both_backends!(
    the_openidconnect_crate_signs_in_verifies_the_id_token_and_refreshes_before_and_after_a_key_rotation,
);

const RP_REDIRECT: &str = "https://rp.example.com/callback";

/// The crate's client with the endpoints discovery sets.
type RelyingParty = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What a sign-in left the relying party with.
struct SignedIn {
    id_token: CoreIdToken,
    nonce: Nonce,
    kid: String,
}

async fn the_openidconnect_crate_signs_in_verifies_the_id_token_and_refreshes_before_and_after_a_key_rotation(
    db: TestDatabase,
) {
    // No key caching: a rotated key signs at once (the auth server's own tests cover the delay).
    let app = spawn_app_with(db, &[("SIGNING_KEY_CACHE_SECONDS", "0")]).await;
    let client = {
        let mut conn = app.pool.get().unwrap();
        seed::confidential_client("relying-party")
            .grants("authorization_code refresh_token")
            .scopes("openid profile email read")
            .redirect_uris(RP_REDIRECT)
            .owned_by(app.user_id)
            .create(&mut conn)
    };
    let http = reqwest::ClientBuilder::new()
        // The crate's advice: no redirects on its requests.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut browser = Browser::new(&app);

    let before = sign_in(&app, &client, &http, &mut browser).await;
    rotate(&app.db, &[]);
    // Signed in already and the client approved: this time straight back with a code.
    let after = sign_in(&app, &client, &http, &mut browser).await;
    assert_ne!(after.kid, before.kid, "the new key signs");

    // The old key is still published: the first ID token verifies against today's JWKS.
    let rp = relying_party(&app, &client, &http).await;
    before
        .id_token
        .claims(&rp.id_token_verifier(), &before.nonce)
        .expect("the first ID token still verifies");
}

/// Discovery, and the client built from what it found (JWKS included).
async fn relying_party(
    app: &TestApp,
    client: &SeededClient,
    http: &reqwest::Client,
) -> RelyingParty {
    let issuer = IssuerUrl::new(app.base.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(RP_REDIRECT.into()).unwrap())
}

/// The whole flow as the relying party runs it, checking each answer as it goes.
async fn sign_in(
    app: &TestApp,
    client: &SeededClient,
    http: &reqwest::Client,
    browser: &mut Browser,
) -> SignedIn {
    let rp = relying_party(app, client, http).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person, in the browser: the login and consent pages when the auth server shows them.
    let path = url
        .as_str()
        .strip_prefix(&app.base)
        .expect("the authorization endpoint is the issuer's");
    let back: HashMap<String, String> = sign_in_and_approve(browser, path).await.redirect_params();
    assert_eq!(&back["state"], state.secret());
    assert_eq!(back["iss"], app.base);

    let tokens = rp
        .exchange_code(AuthorizationCode::new(back["code"].clone()))
        .expect("a token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .expect("the code exchange");
    let id_token = tokens.id_token().expect("an ID token").clone();
    let id_verifier = rp.id_token_verifier();
    // Signature (against the JWKS), iss, aud, exp and nonce.
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("the ID token verifies");
    assert_eq!(claims.issuer().as_str(), app.base);
    assert_eq!(claims.audiences(), &[Audience::new(client.id.clone())]);
    assert_eq!(claims.subject().as_str(), app.user_id.to_string());
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("tue"));
    assert!(claims
        .email()
        .is_some_and(|e| e.as_str().eq_ignore_ascii_case("tue@example.com")));
    assert!(claims.auth_time().is_some());
    let signing_key = id_token.signing_key(&id_verifier).expect("a published key");
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("RS256"),
        signing_key,
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let kid = signing_key
        .key_id()
        .expect("the key has a kid")
        .as_str()
        .to_string();

    let userinfo: CoreUserInfoClaims = rp
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("a userinfo endpoint")
        .request_async(http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject(), claims.subject());
    assert_eq!(
        userinfo.preferred_username().map(|u| u.as_str()),
        Some("tue")
    );

    let refreshed = rp
        .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
        .expect("a token endpoint")
        .request_async(http)
        .await
        .expect("the refresh");
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret()
    );
    assert!(
        !app.is_active(tokens.access_token().secret()).await,
        "the refresh revoked the old access token"
    );
    let userinfo: CoreUserInfoClaims = rp
        .user_info(
            refreshed.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("a userinfo endpoint")
        .request_async(http)
        .await
        .expect("userinfo with the refreshed token");
    assert_eq!(userinfo.subject(), claims.subject());

    SignedIn {
        id_token,
        nonce,
        kid,
    }
}
