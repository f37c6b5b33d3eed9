package node

import (
	"context"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/infra/auth"
)

// authenticator builds the token checks: the static admin token if set,
// then JWTs signed with the HS256 key (created if missing), an RS256 key
// or a JWKS endpoint.
func (n *Node) authenticator(ctx context.Context, cfg Config) (api.Authenticator, error) {
	n.KeyFile = cfg.KeyFile
	if n.KeyFile == "" {
		n.KeyFile = auth.DefaultKeyFile(cfg.DataDir)
	}
	key, created, err := auth.LoadOrCreateKey(n.KeyFile)
	if err != nil {
		return nil, err
	}
	n.KeyCreated = created
	// The JWKS refresher runs until the node closes.
	jwksCtx, stopJWKS := context.WithCancel(context.WithoutCancel(ctx))
	n.cleanups = append(n.cleanups, stopJWKS)
	jwtv, err := auth.NewJWTVerifier(auth.JWTConfig{
		HS256Key: key, RS256PublicPEM: cfg.RSAPublicKeyPEM, JWKSURL: cfg.JWKSURL,
		JWKSFetchContext: jwksCtx,
	})
	if err != nil {
		return nil, err
	}
	var as api.Authenticators
	if cfg.AdminToken != "" {
		as = append(as, api.StaticToken{Token: cfg.AdminToken, Subject: "admin-token"})
	}
	return append(as, jwtv), nil
}
