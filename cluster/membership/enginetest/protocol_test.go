package enginetest

// The control channel between the test (parent) and a node process (child):
// one JSON request per line on the child's stdin, one JSON reply per line on
// its stdout, matched by ID. The child serves requests concurrently, so a
// long "send" does not block "status".

// nodeConfig is what a node process needs to start, passed as JSON in
// envNode.
type nodeConfig struct {
	ID    uint32     `json:"id"`
	Peers []peerAddr `json:"peers"` // every node of the nodelist, self included
	Port  int        `json:"port"`
	Key   []byte     `json:"key"` // the authkey (AES-GCM)
	// Cluster is the cluster name (transport domain separation).
	Cluster string `json:"cluster"`
	// Debug makes the node log at debug level.
	Debug bool `json:"debug"`
}

type peerAddr struct {
	ID    uint32   `json:"id"`
	Addrs []string `json:"addrs"` // one IP per link
}

// Request ops.
const (
	opStatus    = "status"    // engine status
	opSend      = "send"      // broadcast messages; replies when done
	opDigest    = "digest"    // delivery digest
	opWaitTotal = "waittotal" // wait until Total deliveries
	opWaitRing  = "waitring"  // wait for a regular configuration with Members installed at or after SinceNs
	opWaitSeqs  = "waitseqs"  // wait until the given per-sender sequence numbers are delivered
	opLatency   = "latency"   // latency percentiles of delivered messages
	opLeave     = "leave"     // leave the ring gracefully
)

type request struct {
	ID uint64 `json:"id"`
	Op string `json:"op"`

	// send
	Count      int     `json:"count,omitempty"`       // messages to send (0: until DurationMs)
	DurationMs int     `json:"duration_ms,omitempty"` // send for this long (0: until Count)
	Size       int     `json:"size,omitempty"`        // payload bytes, at least headerSize
	Rate       float64 `json:"rate,omitempty"`        // messages per second, 0 = as fast as flow control allows
	Window     int     `json:"window,omitempty"`      // most own messages sent but not yet delivered locally (0: default)
	Safe       bool    `json:"safe,omitempty"`        // safe instead of agreed delivery

	// waittotal / waitring
	Total     uint64            `json:"total,omitempty"`
	Members   []uint32          `json:"members,omitempty"`
	SinceNs   int64             `json:"since_ns,omitempty"`
	Seqs      map[uint32]uint64 `json:"seqs,omitempty"`
	TimeoutMs int               `json:"timeout_ms,omitempty"`

	// digest: running hashes wanted at these delivery counts, and the
	// deliveries [EntriesFrom, EntriesTo)
	HashAt      []uint64 `json:"hash_at,omitempty"`
	EntriesFrom uint64   `json:"entries_from,omitempty"`
	EntriesTo   uint64   `json:"entries_to,omitempty"`
	// latency
	Reset bool `json:"reset,omitempty"`
}

type reply struct {
	ID    uint64 `json:"id"`
	Error string `json:"error,omitempty"`

	Status  *nodeStatus  `json:"status,omitempty"`
	Sent    *sendResult  `json:"sent,omitempty"`
	Digest  *digest      `json:"digest,omitempty"`
	Ring    *segment     `json:"ring,omitempty"`
	Latency *latencyStat `json:"latency,omitempty"`
}

type nodeStatus struct {
	State    string   `json:"state"`
	Ring     string   `json:"ring"`
	Members  []uint32 `json:"members"`
	Regulars int      `json:"regulars"` // regular configurations delivered to the application
	Queued   int      `json:"queued"`
	// Engine counters.
	TokenLosses       uint64 `json:"token_losses"`
	MembershipChanges uint64 `json:"membership_changes"`
	FramesRetrans     uint64 `json:"frames_retransmitted"`
	TokensRetrans     uint64 `json:"tokens_retransmitted"`
	Stalls            uint64 `json:"stalls"`
}

type sendResult struct {
	Sent    int   `json:"sent"`
	StartNs int64 `json:"start_ns"`
	EndNs   int64 `json:"end_ns"`
	// QueueFull counts Broadcast calls refused with back-pressure and retried.
	QueueFull int `json:"queue_full"`
}

// segment is one configuration change seen by the application.
type segment struct {
	Kind    string   `json:"kind"` // "regular" or "transitional"
	Ring    string   `json:"ring"`
	Members []uint32 `json:"members"`
	At      uint64   `json:"at"` // deliveries before it
	TimeNs  int64    `json:"time_ns"`
	// Count and Hash cover the deliveries that followed this change, up to
	// the next one (so far, for the last one).
	Count uint64 `json:"count"`
	Hash  uint64 `json:"hash"`
}

type digest struct {
	Total     uint64            `json:"total"`
	Hash      uint64            `json:"hash"`
	PerSender map[uint32]uint64 `json:"per_sender"`
	// FIFOViolations counts deliveries whose per-sender sequence number did
	// not grow (a duplicate or reordering from one sender).
	FIFOViolations uint64            `json:"fifo_violations"`
	BadPayloads    uint64            `json:"bad_payloads"`
	Segments       []segment         `json:"segments"`
	FirstNs        int64             `json:"first_ns"`
	LastNs         int64             `json:"last_ns"`
	HashAt         map[uint64]uint64 `json:"hash_at,omitempty"`
	Entries        []entry           `json:"entries,omitempty"`
}

// entry is one delivery: the sender and its per-sender sequence number.
type entry struct {
	Sender uint32 `json:"s"`
	Seq    uint64 `json:"q"`
}

type latencyStat struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}
