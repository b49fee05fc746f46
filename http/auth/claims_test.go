package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAuthorize(t *testing.T) {
	user := Claims{Subject: "alice"}
	admin := Claims{Subject: "alice", Admin: true}
	userApp := Claims{Subject: "alice", App: "shop", HasApp: true}
	adminApp := Claims{Subject: "alice", App: "shop", HasApp: true, Admin: true}
	const (
		ok    = ""
		badU  = "may only act for its own user"
		badA  = `token is for app "shop"`
		other = "bob"
	)
	tests := []struct {
		c         Claims
		app, user string
		want      string
	}{
		{user, "shop", "alice", ok},
		{user, "blog", "alice", ok},
		{user, "shop", other, badU},
		{user, "shop", "", badU},
		{user, "shop", "all", badU},
		{user, "shop", "Alice", badU},
		{admin, "shop", "alice", ok},
		{admin, "blog", other, ok},
		{admin, "shop", "", ok},
		{admin, "shop", "all", ok},
		{userApp, "shop", "alice", ok},
		{userApp, "shop", other, badU},
		{userApp, "shop", "", badU},
		{userApp, "shop", "all", badU},
		{userApp, "blog", "alice", badA},
		{userApp, "", "alice", badA},
		{userApp, "Shop", "alice", badA},
		{adminApp, "shop", "alice", ok},
		{adminApp, "shop", other, ok},
		{adminApp, "shop", "", ok},
		{adminApp, "shop", "all", ok},
		{adminApp, "blog", "alice", badA},
		{adminApp, "blog", other, badA},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("admin=%v,app=%q/%s,%q", tt.c.Admin, tt.c.App, tt.app, tt.user)
		t.Run(name, func(t *testing.T) {
			err := tt.c.Authorize(tt.app, tt.user)
			switch {
			case tt.want == ok && err != nil:
				t.Fatalf("unexpected %v", err)
			case tt.want == ok:
			case !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v, want ErrForbidden with %q", err, tt.want)
			}
		})
	}
}
