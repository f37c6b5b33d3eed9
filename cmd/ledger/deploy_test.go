package main

import (
	"context"
	"encoding/hex"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/nats-ledger/ledger/node"
)

// The top-level docker-compose.yml, loaded by the loader Docker Compose
// itself uses (compose-go), with .env.example as its .env: Docker is not
// available where the tests run, so this is what checks the file. Three
// NATS servers in one cluster with JetStream on named volumes; two API
// nodes and two processors whose commands parse with serve's own flag
// set, against the three servers with three replicas; a health check on
// every service; the secrets from the environment file.
func TestComposeFile(t *testing.T) {
	project := loadCompose(t)
	natsNames := []string{"nats-1", "nats-2", "nats-3"}
	for _, name := range natsNames {
		checkNATSService(t, project, name, natsNames)
	}
	roles := map[string]int{}
	for name, svc := range project.Services {
		if svc.HealthCheck == nil || len(svc.HealthCheck.Test) == 0 || svc.HealthCheck.Disable {
			t.Errorf("service %s has no health check", name)
		}
		if !strings.HasPrefix(name, "ledger-") {
			continue
		}
		cfg := parseComposeServe(t, name, svc)
		roles[cfg.node.Roles.String()]++
		if cfg.node.Replicas != 3 || len(cfg.node.NATS.URLs) != 3 || cfg.node.NATS.User == "" || cfg.node.NATS.Password == "" {
			t.Errorf("%s: replicas %d, nats %v user %q: want 3 replicas on the three servers with credentials",
				name, cfg.node.Replicas, cfg.node.NATS.URLs, cfg.node.NATS.User)
		}
		if !strings.Contains(strings.Join(svc.HealthCheck.Test, " "), "/readyz") {
			t.Errorf("%s: health check %v, want /readyz", name, svc.HealthCheck.Test)
		}
		for _, dep := range natsNames {
			if d, ok := svc.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s does not wait for %s to be healthy", name, dep)
			}
		}
		if len(svc.Volumes) != 1 || svc.Volumes[0].Type != types.VolumeTypeVolume || svc.Volumes[0].Target != "/data" {
			t.Errorf("%s: volumes %+v, want a named volume at /data", name, svc.Volumes)
		}
		checkLedgerSecrets(t, name, svc, cfg)
	}
	if roles[string(node.RoleAPI)] != 2 || roles[string(node.RoleProcessor)] != 2 || len(roles) != 2 {
		t.Errorf("ledger services by roles: %v, want two api and two processor", roles)
	}
	for _, v := range []string{"nats-1", "nats-2", "nats-3", "ledger-api-1", "ledger-api-2", "ledger-processor-1", "ledger-processor-2"} {
		if _, ok := project.Volumes[v]; !ok {
			t.Errorf("no named volume %s", v)
		}
	}
}

// The environment file's placeholders are not usable keys: a node given
// them refuses to start rather than run with a key everyone knows.
func TestComposeEnvExampleHasNoSecrets(t *testing.T) {
	env, err := dotenv.Read("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"LEDGER_JWT_KEY", "LEDGER_CHECKPOINT_KEY_SEED"} {
		if _, err := hex.DecodeString(env[k]); err == nil {
			t.Errorf("%s=%q in .env.example is usable hex: a placeholder must not be a key", k, env[k])
		}
	}
	for _, k := range []string{"LEDGER_ADMIN_TOKEN", "NATS_PASSWORD"} {
		if !strings.HasPrefix(env[k], "replace-with-") {
			t.Errorf("%s=%q in .env.example: want a replace-with- placeholder", k, env[k])
		}
	}
}

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"},
		cli.WithWorkingDirectory("../.."), cli.WithEnvFiles("../../.env.example"), cli.WithDotEnv, cli.WithName("ledger"))
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return project
}

func checkNATSService(t *testing.T, project *types.Project, name string, all []string) {
	t.Helper()
	svc, ok := project.Services[name]
	if !ok {
		t.Errorf("no service %s", name)
		return
	}
	if !strings.HasPrefix(svc.Image, "nats:") {
		t.Errorf("%s: image %q, want the official nats image", name, svc.Image)
	}
	cmd := strings.Join(svc.Command, " ")
	for _, want := range []string{"-js", "--server_name=" + name, "--store_dir=/data", "--cluster_name=ledger", "--cluster=nats://0.0.0.0:6222"} {
		if !slices.Contains(svc.Command, want) {
			t.Errorf("%s: command %q lacks %s", name, cmd, want)
		}
	}
	for _, peer := range all {
		if !strings.Contains(cmd, "nats://"+peer+":6222") {
			t.Errorf("%s: no route to %s", name, peer)
		}
	}
	if len(svc.Volumes) != 1 || svc.Volumes[0].Type != types.VolumeTypeVolume || svc.Volumes[0].Source != name || svc.Volumes[0].Target != "/data" {
		t.Errorf("%s: volumes %+v, want the named volume %s at /data", name, svc.Volumes, name)
	}
}

// parseComposeServe parses a ledger service's command with serve's flag
// set, its environment set as the container's would be.
func parseComposeServe(t *testing.T, name string, svc types.ServiceConfig) serveConfig {
	t.Helper()
	if len(svc.Command) == 0 || svc.Command[0] != "serve" {
		t.Fatalf("%s: command %v, want serve", name, svc.Command)
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LEDGER_") {
			t.Setenv(k, "") // empty counts as unset: the container has only its own
		}
	}
	// Every service sets the same variables, so each one's values replace
	// the previous one's.
	for k, v := range svc.Environment {
		if v != nil {
			t.Setenv(k, *v)
		}
	}
	cfg, err := parseServe(svc.Command[1:], io.Discard)
	if err != nil {
		t.Fatalf("%s: serve %v: %v", name, svc.Command[1:], err)
	}
	for k := range svc.Environment {
		t.Setenv(k, "")
	}
	return cfg
}

// checkLedgerSecrets: API nodes share the token key and the admin token,
// processors the checkpoint key, each mounted from a secret whose value is
// in the environment file.
func checkLedgerSecrets(t *testing.T, name string, svc types.ServiceConfig, cfg serveConfig) {
	t.Helper()
	var secret, file string
	switch {
	case cfg.node.Roles.Has(node.RoleAPI):
		secret, file = "jwt_key", cfg.node.KeyFile
		if cfg.node.AdminToken == "" {
			t.Errorf("%s: no LEDGER_ADMIN_TOKEN", name)
		}
	default:
		secret, file = "checkpoint_key", cfg.node.CheckpointKeyFile
	}
	if file != "/run/secrets/"+secret || len(svc.Secrets) != 1 || svc.Secrets[0].Source != secret {
		t.Errorf("%s: key file %q, secrets %+v, want the secret %s", name, file, svc.Secrets, secret)
	}
}
