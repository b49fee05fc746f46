package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ClusterConfig is how a server runs as one member of a cluster (package
// actors/cluster); an empty Name runs a single node, the default.
type ClusterConfig struct {
	Name   string   // cluster name; "" is single-node mode
	Addr   string   // this member's actor address (proto.actor remoting), host:port
	Health string   // this member's health listener, polled by the others, host:port
	Peers  []string // every member's health address, this one's included
	// NATSURL is an existing NATS cluster's client URL; empty runs one
	// embedded in each member, on NATSAddr, routed to NATSRoutes.
	NATSURL        string
	NATSAddr       string
	NATSClusterAdr string
	NATSRoutes     []string
	Replicas       int // of the log's stream; 0: min(3, len(Peers))
}

func (c *ClusterConfig) bindings() []binding {
	return []binding{
		{"cluster", "SESSION_CLUSTER", "cluster `name`: run as a member of it (see the README's cluster section); empty runs a single node", &value[string]{&c.Name, parseName, ident}},
		{"cluster-addr", "SESSION_CLUSTER_ADDR", "this member's actor `address` (host:port), reached by the other members", &value[string]{&c.Addr, parseDebugAddr, ident}},
		{"cluster-health", "SESSION_CLUSTER_HEALTH", "this member's health `address` (host:port), polled by the other members", &value[string]{&c.Health, parseDebugAddr, ident}},
		{"cluster-peers", "SESSION_CLUSTER_PEERS", "comma-separated health `addresses` of every member, this one's included", &value[[]string]{&c.Peers, parseAddrList, formatList}},
		{"nats-url", "SESSION_NATS_URL", "client `URL` of an existing NATS cluster with JetStream; empty embeds one in each member", &value[string]{&c.NATSURL, parsePath, ident}},
		{"nats-addr", "SESSION_NATS_ADDR", "embedded NATS client `address` (host:port)", &value[string]{&c.NATSAddr, parseDebugAddr, ident}},
		{"nats-cluster-addr", "SESSION_NATS_CLUSTER_ADDR", "embedded NATS route `address` (host:port), reached by the other members' NATS", &value[string]{&c.NATSClusterAdr, parseDebugAddr, ident}},
		{"nats-routes", "SESSION_NATS_ROUTES", "comma-separated route `addresses` of every member's embedded NATS", &value[[]string]{&c.NATSRoutes, parseAddrList, formatList}},
		{"replicas", "SESSION_REPLICAS", "`copies` of each app's log in JetStream; 0: 3, or fewer members", &value[int]{&c.Replicas, parseCount, strconv.Itoa}},
	}
}

// check returns the first problem of a member's configuration.
func (c *ClusterConfig) check() error {
	if c.Name == "" {
		return nil
	}
	switch {
	case c.Addr == "":
		return fmt.Errorf("%w: %s is required with -cluster", ErrConfig, source("cluster-addr"))
	case c.Health == "":
		return fmt.Errorf("%w: %s is required with -cluster", ErrConfig, source("cluster-health"))
	case len(c.Peers) == 0:
		return fmt.Errorf("%w: %s is required with -cluster", ErrConfig, source("cluster-peers"))
	case c.NATSURL == "" && c.NATSAddr == "":
		return fmt.Errorf("%w: %s or %s is required with -cluster", ErrConfig, source("nats-url"), source("nats-addr"))
	case c.NATSURL == "" && len(c.NATSRoutes) > 1 && c.NATSClusterAdr == "":
		return fmt.Errorf("%w: %s is required with -nats-routes", ErrConfig, source("nats-cluster-addr"))
	case c.Replicas > 5:
		return fmt.Errorf("%w: %s: JetStream keeps at most 5 replicas", ErrConfig, source("replicas"))
	}
	return nil
}

// replicas is the stream's replica count.
func (c *ClusterConfig) replicas() int {
	if c.Replicas > 0 {
		return c.Replicas
	}
	return min(3, max(1, len(c.Peers)))
}

func parseName(s string) (string, error) {
	if strings.ContainsAny(s, " \t.*>") {
		return "", errors.New("a name without spaces, dots, * or >")
	}
	return s, nil
}

func parseAddrList(s string) ([]string, error) {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if err := checkAddr(a); err != nil {
			return nil, fmt.Errorf("%q: %w", a, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func formatList(l []string) string { return strings.Join(l, ",") }
