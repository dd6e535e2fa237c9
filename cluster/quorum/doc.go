// Package quorum owns the votequorum arithmetic: given the configured votes
// and options and the sequence of agreed memberships, it decides whether this
// node's partition is quorate, exactly as Corosync's votequorum(5) service
// does. It is a pure state machine: no I/O, no goroutines, no clock. Time
// enters only as a monotonic "now" (time.Duration since any fixed origin)
// passed to SetMembers and Tick.
//
// # Usage
//
//	q, err := quorum.New(quorum.Config{Votes: map[quorum.NodeID]uint32{1: 1, 2: 1, 3: 1}})
//	st := q.SetMembers(now, []quorum.NodeID{1, 2, 3}, nil) // every agreed configuration
//	st, changed := q.Tick(now)                             // periodically (last_man_standing)
//	err = q.SetExpected(2)                                 // `ovsha quorum expected 2`
//
// Every member of a view runs its own Quorum with the same configuration and
// the same agreed membership sequence, so all members reach the same answer.
// A node that (re)joins a running cluster learns the cluster's state through
// PeerQuorate (corosync's nodeinfo message).
//
// # Rules (votequorum(5), checked against corosync's exec/votequorum.c)
//
//   - Votes: each node has quorum_votes (default 1); nodes absent from
//     Config.Votes vote 1. TotalVotes is the sum over the current members.
//   - Expected votes: quorum.expected_votes when set, otherwise the sum of the
//     nodelist votes. Whenever TotalVotes exceeds it, expected votes is raised
//     to TotalVotes. It never decreases by itself: only SetExpected,
//     last_man_standing, allow_downscale and PeerQuorate lower it.
//   - Quorum = max(expected/2+1, total/2+1) (integer division). Quorum never
//     decreases except through the same four paths.
//   - Quorate when TotalVotes >= Quorum (subject to wait_for_all and
//     auto_tie_breaker below).
//   - two_node: while the view has at most two members, Quorum is 1. With
//     three or more members the normal formula applies (the option is
//     effectively disabled). two_node turns wait_for_all on unless
//     Config.WaitForAll is Off. two_node cannot be combined with
//     auto_tie_breaker (corosync disables two_node; New rejects it).
//   - wait_for_all: starts pending. While pending the partition is not
//     quorate, whatever its votes, until a view whose TotalVotes equals
//     ExpectedVotes (all nodes present together) is seen; then the normal
//     rule applies. WFA is also satisfied by PeerQuorate (joining a partition
//     that is already quorate), by CancelWaitForAll, and by SetExpected when
//     the new expected votes equals the votes present. As in corosync, WFA
//     re-arms (becomes pending again) whenever the partition becomes
//     inquorate: a partition that lost quorum must see all nodes again. A
//     two_node survivor stays quorate (quorum 1), so it never re-arms.
//   - last_man_standing (LMS): every view change that removes nodes while at
//     least Quorum members remain (or, with auto_tie_breaker, that leaves a
//     quorate partition with at most Quorum members including the tie-breaker
//     node) restarts a timer of
//     last_man_standing_window (default 10s). When Tick sees it expire and the
//     partition is quorate, ExpectedVotes becomes the number of current
//     members and Quorum is recomputed from it. A view change that only adds
//     nodes neither restarts nor cancels the timer (corosync does the same).
//     LMS needs every node to vote 1 (New rejects anything else).
//   - auto_tie_breaker (ATB): a partition that was quorate in its previous
//     view and now holds exactly half of the expected votes
//     (TotalVotes*2 == ExpectedVotes) stays quorate if it holds the previous
//     view's tie-breaker node: its lowest node ID ("lowest", the default),
//     its highest ("highest"), or, for a list, the first listed node that was
//     a member of the previous view (a listed node that was not in the
//     cluster before the split is skipped, as the man page says). The other
//     half computes the same tie-breaker and is not quorate. ATB cannot be
//     combined with two_node (New rejects it; corosync disables two_node).
//     ovsha is stricter than corosync in two ways, both found unsafe by the
//     seeded TestNoSplitBrain: ATB only keeps quorum (corosync's list mode
//     can grant it to a half at cold start), and only on an exact half
//     (corosync also accepts expected/2 votes in an odd cluster, which lets
//     a minority stay quorate while a node it never saw joins the majority).
//     Corosync's rule that ATB with an odd number of nodelist votes needs
//     wait_for_all is therefore not needed and not enforced.
//   - allow_downscale (AD): when a view change removes nodes that left
//     cleanly (the left argument of SetMembers), ExpectedVotes drops by
//     their votes, but not below the configured expected votes (or the last
//     SetExpected value), and Quorum is recomputed from it. An ordered
//     shutdown thus shrinks the cluster back to its configured size; nodes
//     that crashed keep counting. Corosync marks this feature incomplete and
//     recomputes from the current node count, which also forgets crashed
//     nodes; ovsha follows the man page. With AD, last_man_standing does not
//     go below that floor either.
//   - SetExpected(n) (corosync-quorumtool -e): refused when n is 0 or when the
//     resulting quorum, max(n/2+1, total/2+1), exceeds the votes present (it
//     would make the partition inquorate). Otherwise ExpectedVotes becomes n
//     (and the allow_downscale floor becomes n); a value below TotalVotes is
//     immediately raised back to TotalVotes, so expected votes cannot be set
//     below the votes present.
package quorum
