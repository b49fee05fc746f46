package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/bench"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, o options)
		err   error // nil: no error; errAny: some error
	}{
		{"defaults", []string{"-jwt-secret", "S"}, nil, func(t *testing.T, o options) {
			c := o.cfg
			if c.Target != "http://127.0.0.1:8000" || c.Connections != 64 || c.Duration != 10*time.Second ||
				c.Warmup != time.Second || c.Rate != 0 || c.Baseline || o.json || o.quiet || o.wait != 10*time.Second ||
				c.Workload.Scenario != bench.ScenarioMixed || c.Workload.Users != 1000 || c.Workload.Apps != 10 ||
				c.Workload.ReadRatio != 0.1 || string(c.Workload.Secret) != "S" {
				t.Errorf("defaults: %+v", o)
			}
		}, nil},
		{"every flag", []string{"-target", "http://127.0.0.2:9000", "-jwt-secret", "X", "-scenario", "track", "-c", "8",
			"-d", "3s", "-warmup", "0s", "-rate", "500", "-timeout", "2s", "-users", "50", "-apps", "5",
			"-read-ratio", "0.5", "-seed", "7", "-baseline", "-json", "-quiet", "-wait", "0s"}, nil, func(t *testing.T, o options) {
			c := o.cfg
			if c.Target != "http://127.0.0.2:9000" || c.Connections != 8 || c.Duration != 3*time.Second || c.Warmup != 0 ||
				c.Rate != 500 || c.Timeout != 2*time.Second || c.Seed != 7 || !c.Baseline || !o.json || !o.quiet || o.wait != 0 ||
				c.Workload.Scenario != bench.ScenarioTrack || c.Workload.Users != 50 || c.Workload.Apps != 5 ||
				c.Workload.ReadRatio != 0.5 || string(c.Workload.Secret) != "X" {
				t.Errorf("every flag: %+v", o)
			}
		}, nil},
		{"secret from the environment", nil, map[string]string{"SESSION_JWT_SECRET": "E"}, func(t *testing.T, o options) {
			if string(o.cfg.Workload.Secret) != "E" {
				t.Errorf("secret %q, want E", o.cfg.Workload.Secret)
			}
		}, nil},
		{"flag wins over the environment", []string{"-jwt-secret", "F"}, map[string]string{"SESSION_JWT_SECRET": "E"},
			func(t *testing.T, o options) {
				if string(o.cfg.Workload.Secret) != "F" {
					t.Errorf("secret %q, want F", o.cfg.Workload.Secret)
				}
			}, nil},
		{"no secret", nil, nil, nil, bench.ErrConfig},
		{"unknown scenario", []string{"-jwt-secret", "S", "-scenario", "soak"}, nil, nil, bench.ErrScenario},
		{"bad read ratio", []string{"-jwt-secret", "S", "-read-ratio", "2"}, nil, nil, bench.ErrConfig},
		{"stray argument", []string{"-jwt-secret", "S", "now"}, nil, nil, errAny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parse(tc.args, env(tc.env), &stderr)
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("parse: %v", err)
			case tc.err == errAny && err == nil, tc.err != nil && tc.err != errAny && !errors.Is(err, tc.err):
				t.Fatalf("parse: %v, want %v", err, tc.err)
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestHelpDoesNotShowTheSecret(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-h"}, env(map[string]string{"SESSION_JWT_SECRET": "hunter2"}), &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "-scenario") || strings.Contains(stderr.String(), "hunter2") {
		t.Errorf("-h: exit %d, output\n%s", code, stderr.String())
	}
}

func TestUsageErrorExitsTwo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-scenario", "soak"}, env(nil), &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2; stderr %s", code, stderr.String())
	}
}
