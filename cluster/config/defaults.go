package config

import "time"

// ovsha's defaults, in one place. Where ovsha differs from corosync the
// comment gives corosync's value and the reason. ovsha targets a LAN
// appliance of 2-8 nodes with sub-second gateway failover; corosync's
// defaults (token 3000 ms, consensus 3600 ms) give 3-4 s failure detection.
const (
	// DefaultVersion: the only totem config version there is (corosync: 2).
	DefaultVersion = 2
	// DefaultTransport: corosync's default. ovsha always sends unicast UDP
	// to every node on every link, whatever the transport says.
	DefaultTransport = "knet"
	// DefaultCryptoCipher, DefaultCryptoHash describe what ovsha always does
	// (AES-256-GCM, which authenticates too); corosync's default is none.
	DefaultCryptoCipher = "aes256"
	DefaultCryptoHash   = "sha256"
	// DefaultKeyfile: ovsha's own directory (corosync: /etc/corosync/authkey).
	DefaultKeyfile = "/etc/ovsha/authkey"

	// DefaultToken: 150 ms (corosync 3000). A dead node is noticed 150 ms
	// after the last token it passed, which is what lets the gateway VIP
	// answer on a survivor within ~250 ms of a power loss. Short tokens
	// flapped on loaded hosts because the local process was descheduled;
	// ovsha's stall detection (StallThreshold) discounts a node's own
	// scheduling gaps, and tokens go out on every link and are retransmitted
	// up to seven times, so loss and stalls of the whole machine cause no
	// false verdict. A single process of a peer stalled for longer than the
	// token is indistinguishable from a dead one: raise token where peers may
	// be descheduled that long.
	DefaultToken = 150 * time.Millisecond
	// DefaultTokenCoefficient: 0 (corosync 650 ms per node beyond two).
	// On a LAN a token visit costs microseconds per node, so growing the
	// timeout with the node count would only slow failover. Set it for
	// large or slow clusters; corosync's formula is kept.
	DefaultTokenCoefficient = 0
	// DefaultTokenRetransmitsBeforeLossConst: 7 (corosync 4). With a short
	// token, more retransmissions within the timeout mean that several lost
	// datagrams in a row never look like a dead node.
	DefaultTokenRetransmitsBeforeLossConst = 7
	// DefaultJoin: 15 ms (corosync 50). Live nodes answer a join within a
	// millisecond on a LAN; four join rounds fit in the default consensus.
	DefaultJoin = 15 * time.Millisecond
	// DefaultMerge: 200 ms, corosync's value; separated rings find each
	// other within one (default) token time.
	DefaultMerge = 200 * time.Millisecond
	// DefaultDowncheck: 1000 ms, corosync's value.
	DefaultDowncheck = 1000 * time.Millisecond
	// DefaultFailRecvConst: 2500 rotations, corosync's value.
	DefaultFailRecvConst = 2500
	// DefaultSeqnoUnchangedConst: 4 rotations (corosync 30): the number of
	// idle token rotations before the representative holds the token for
	// `hold`. Four rotations after the last frame every member has seen the
	// token's aru cover it twice, so safe deliveries never wait for a held
	// token. Corosync's 30 keeps the token spinning between messages at
	// moderate rates (its three daemons burn ~94% of a core at 100 msgs/s);
	// with 2, an idle or lightly used ring passes a few dozen tokens per
	// second, and a node with data releases a held token at once.
	DefaultSeqnoUnchangedConst = 4
	// DefaultMaxMessages: 64 (corosync 17). 64 full frames of 1500 bytes
	// (96 KiB) fit in a default Linux UDP socket buffer (208 KiB);
	// corosync's 17 dates from 10 Mbit/s networks.
	DefaultMaxMessages = 64
	// DefaultWindowSize: 256 (corosync 50). Appliances are alike, so no
	// slow member needs protecting from bursts (the reason for corosync's
	// small window), and configuration updates arrive in bursts.
	DefaultWindowSize = 256
	// DefaultSendJoin: 0 ms, corosync's value; only rings of 32+ nodes
	// need join jitter.
	DefaultSendJoin = 0
	// DefaultNetMTU: 1500 bytes, a standard Ethernet frame (corosync's
	// udpu default; knet's 65536 relies on knet's own fragmentation).
	DefaultNetMTU = 1500
	// DefaultStallThreshold (ovsha only): when two consecutive timer ticks
	// are further apart than 40 ms, the local process was not running
	// (descheduled, VM paused) and the gap is not held against peers.
	// 40 ms is a fifth of the default token.
	DefaultStallThreshold = 40 * time.Millisecond
	// DefaultHeartbeatInterval (ovsha only): 50 ms between heartbeats on
	// each link to each peer; with DefaultLinkTimeoutFactor a dead link is
	// declared within 200 ms.
	DefaultHeartbeatInterval = 50 * time.Millisecond
	// DefaultLinkTimeoutFactor: link_timeout defaults to 4 heartbeat
	// intervals, so three lost heartbeats in a row are tolerated.
	DefaultLinkTimeoutFactor = 4
	// DefaultPort: 5405 on every link, corosync's mcastport default, so
	// existing firewall rules keep working.
	DefaultPort = 5405

	// DefaultQuorumVotes: 1 vote per node, as corosync.
	DefaultQuorumVotes = 1
	// DefaultLastManStandingWindow: 10000 ms, corosync's value.
	DefaultLastManStandingWindow = 10000 * time.Millisecond
	// DefaultAutoTieBreakerNode: "lowest", corosync's value.
	DefaultAutoTieBreakerNode = "lowest"

	// DefaultToStderr: yes, as corosync; under systemd stderr goes to the
	// journal.
	DefaultToStderr = true
	// DefaultToSyslog: no (corosync yes). ovshad runs under systemd, where
	// stderr already reaches the journal; syslog would log every line twice.
	DefaultToSyslog = false
	// DefaultDebug, DefaultTimestamp: corosync's values.
	DefaultDebug     = "off"
	DefaultTimestamp = "hires"

	// DefaultAPIGroup: members of this group may use the control socket.
	// "haclient" is Pacemaker's group, so existing operator accounts work.
	DefaultAPIGroup = "haclient"
	// DefaultAPISocket: the control API's unix socket.
	DefaultAPISocket = "/run/ovsha/ovshad.sock"
)

// DefaultTotem returns the totem settings of a file that sets nothing.
// Derived timers (TokenRetransmit, Hold, Consensus) are left 0 here and
// computed by Totem.Effective, because they follow the effective token.
func DefaultTotem() Totem {
	return Totem{
		Version:                         DefaultVersion,
		Transport:                       DefaultTransport,
		CryptoCipher:                    DefaultCryptoCipher,
		CryptoHash:                      DefaultCryptoHash,
		Keyfile:                         DefaultKeyfile,
		Token:                           DefaultToken,
		TokenCoefficient:                DefaultTokenCoefficient,
		TokenRetransmitsBeforeLossConst: DefaultTokenRetransmitsBeforeLossConst,
		Join:                            DefaultJoin,
		Merge:                           DefaultMerge,
		Downcheck:                       DefaultDowncheck,
		FailRecvConst:                   DefaultFailRecvConst,
		SeqnoUnchangedConst:             DefaultSeqnoUnchangedConst,
		MaxMessages:                     DefaultMaxMessages,
		WindowSize:                      DefaultWindowSize,
		SendJoin:                        DefaultSendJoin,
		NetMTU:                          DefaultNetMTU,
		StallThreshold:                  DefaultStallThreshold,
		HeartbeatInterval:               DefaultHeartbeatInterval,
	}
}

// DefaultQuorum returns the quorum settings of a file that sets nothing.
func DefaultQuorum() Quorum {
	return Quorum{
		LastManStandingWindow: DefaultLastManStandingWindow,
		AutoTieBreakerNode:    DefaultAutoTieBreakerNode,
	}
}

// DefaultLogging returns the logging settings of a file that sets nothing.
func DefaultLogging() Logging {
	return Logging{
		ToStderr:  DefaultToStderr,
		ToSyslog:  DefaultToSyslog,
		Debug:     DefaultDebug,
		Timestamp: DefaultTimestamp,
	}
}

// DefaultOvsha returns the ovsha section of a file that sets nothing.
func DefaultOvsha() Ovsha {
	return Ovsha{APIGroup: DefaultAPIGroup, APISocket: DefaultAPISocket}
}
