package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovsha/ovsha/appliance"
)

type verbsFakeSource struct{}

func (verbsFakeSource) Status(ctx context.Context) (appliance.StatusResponse, error) {
	r, _ := verbsFakeSource{}.Ring(ctx)
	q, _ := verbsFakeSource{}.Quorum(ctx)
	return appliance.StatusResponse{ClusterName: "c1", Node: appliance.Member{NodeID: 1, Name: "n1"}, Ring: r, Quorum: q}, nil
}

func (verbsFakeSource) Ring(context.Context) (appliance.RingResponse, error) {
	return appliance.RingResponse{
		Node: appliance.Member{NodeID: 1, Name: "n1"}, State: "operational", RingID: appliance.RingID{Rep: 1, Seq: 4},
		Members: []appliance.Member{{NodeID: 1, Name: "n1"}, {NodeID: 2, Name: "n2"}},
		Nodes: []appliance.NodeLinks{
			{NodeID: 1, Name: "n1", Local: true},
			{NodeID: 2, Name: "n2", Links: []appliance.Link{
				{Link: 0, Local: "10.201.0.1:5405", Remote: "10.201.0.2:5405", Connected: true, LatencyMS: 0.25, TxPackets: 10, RxPackets: 9},
				{Link: 1, Local: "10.202.0.1:5405", Remote: "10.202.0.2:5405"},
			}},
		},
	}, nil
}

func (verbsFakeSource) Quorum(context.Context) (appliance.QuorumResponse, error) {
	return appliance.QuorumResponse{Node: appliance.Member{NodeID: 1, Name: "n1"}, Quorate: true, ExpectedVotes: 3, TotalVotes: 2, Quorum: 2,
		Flags:   []string{"Quorate"},
		Members: []appliance.QuorumMember{{NodeID: 1, Name: "n1", Votes: 1, Local: true}, {NodeID: 2, Name: "n2", Votes: 1}}}, nil
}

func serveFake(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ovshad.sock")
	ln, err := appliance.ListenControl(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: appliance.NewHandler(verbsFakeSource{}, slog.New(slog.DiscardHandler))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func runVerb(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestReadVerbsText(t *testing.T) {
	sock := serveFake(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"status"}, []string{"Cluster: c1", "operational, ring id 1.4, 2 member(s): n1(1) n2(2)", "quorate (total votes 2, expected votes 3, quorum 2)", "link0 connected 0.250 ms, link1 down"}},
		{[]string{"ring", "status"}, []string{"Local node: n1 (nodeid 1)", "localhost", "connected", "10.201.0.2:5405", "down"}},
		{[]string{"quorum", "status"}, []string{"Quorate:          Yes", "Expected votes:   3", "Total votes:      2", "Quorum:           2", "Flags:            Quorate", "n1 (local)"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := runVerb(t, append(tt.args, "--socket", sock)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestQuorumStatusJSON(t *testing.T) {
	sock := serveFake(t)
	t.Setenv(socketEnv, sock) // the environment selects the daemon too
	out, err := runVerb(t, "quorum", "status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Quorate       bool `json:"quorate"`
		ExpectedVotes int  `json:"expected_votes"`
		TotalVotes    int  `json:"total_votes"`
		Quorum        int  `json:"quorum"`
		Members       []struct {
			NodeID int    `json:"nodeid"`
			Name   string `json:"name"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if !v.Quorate || v.ExpectedVotes != 3 || v.TotalVotes != 2 || v.Quorum != 2 || len(v.Members) != 2 || v.Members[1].Name != "n2" {
		t.Fatalf("decoded %+v", v)
	}
}

func TestReadVerbsUnreachableDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{{"status"}, {"ring", "status", "--json"}, {"quorum", "status"}} {
		_, err := runVerb(t, append(args, "--socket", sock)...)
		if err == nil || !strings.Contains(err.Error(), "cannot reach ovshad at "+sock) || !strings.Contains(err.Error(), "is ovshad running?") {
			t.Errorf("%v: error %v, want one line naming the socket and asking whether ovshad runs", args, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error spans lines: %q", args, err)
		}
	}
}
