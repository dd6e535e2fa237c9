// Package wire owns the binary encoding of Totem protocol messages: the
// message types (messages.go), their byte layout, and the strict decoder
// that is the only thing standing between a datagram from the network and
// the protocol engine.
//
// # Usage
//
// The runtime encodes what the engine asks to send and decodes what the
// transport delivers:
//
//	buf = wire.Append(buf[:0], msg)      // no allocation once buf is large enough
//	m, err := wire.Decode(pkt.Data)      // pkt.Data must not change while m is used
//
// Encode is Append into a new, exactly sized slice. Size returns the exact
// encoded length without encoding. The engine packs fragments into frames
// with FrameOverhead, FragmentOverhead and EncapOverhead (see
// FragmentOverhead for the rule). Validate checks a message against the
// decoder's rules without encoding it.
//
// # Format
//
// Every message starts with two bytes: the wire version (Version, 1) and the
// Kind. All integers are fixed width and little-endian; node ids are 4
// bytes, sequence numbers 8. Fixed widths keep Size exact and the packing
// overheads constant; Totem frames are dominated by payload, so varints
// would save little. A RingID is Rep (4) then Seq (8): 12 bytes. Lists are
// a 2-byte count followed by the elements. Booleans live in flag bytes;
// undefined bits must be zero.
//
//	Token (kind 1): 61 bytes + 8 per Rtr entry
//	  off size field
//	    0    1 version = 1
//	    1    1 kind = 1
//	    2   12 Ring
//	   14    8 TokenSeq
//	   22    8 Seq
//	   30    8 Aru
//	   38    4 AruAddr            (0: none)
//	   42    4 Fcc
//	   46    4 Backlog
//	   50    1 flags              bit 0: RetransFlg
//	   51    8 InstallSeq
//	   59    2 n = len(Rtr)       n <= MaxRtr (16384; MaxSize binds at 8180)
//	   61  8*n Rtr
//
//	Mcast (kind 2): header then an Mcast body; FrameOverhead = 30 bytes
//	+ 3 per fragment + data (+ the encapsulated body)
//	  body:
//	    0   12 Ring
//	   12    8 Seq
//	   20    4 Sender             nonzero
//	   24    1 Flags              defined bits only (FlagSafe)
//	   25    1 encap              0 or 1; 1 = an encapsulated body follows
//	                              the fragments (outer body only)
//	   26    2 n = len(Frags)     n <= MaxFragments (4096); 0 if encap = 1
//	   28      n fragments, each:
//	             1 flags          bit 0: Start, bit 1: End
//	             2 len(Data)
//	           len Data
//	     ...   if encap = 1: the encapsulated frame's body (EncapOverhead
//	           = 28 bytes more than that frame's own encoding), whose encap
//	           byte must be 0
//
//	Join (kind 3): 18 bytes + 4 per id
//	    2    4 Sender             nonzero
//	    6    8 RingSeq
//	   14    2 n = len(Proc)      n <= MaxNodeIDs (1024)
//	   16  4*n Proc               ascending, no duplicates, no 0
//	     +   2 k = len(Fail)      k <= MaxNodeIDs
//	     + 4*k Fail               ascending, no duplicates, no 0
//
//	Commit (kind 4): 27 bytes + 41 per member
//	    2   12 Ring
//	   14    8 TokenSeq
//	   22    1 Rotation
//	   23    2 n = len(Members)   n <= MaxNodeIDs
//	   25  4*n Members            ascending, no duplicates, no 0
//	     +   2 len(Entries)       must equal n
//	     +37*n Entries, each:
//	             1 flags          bit 0: Filled
//	            12 OldRing
//	             8 Aru
//	             8 HighDelivered
//	             8 HighReceived
//
//	MergeDetect (5), HoldCancel (6), Leave (7): 18 bytes
//	TokenAck (8): the same 18 bytes, then TokenSeq u64 (26 bytes)
//	    2    4 Sender             nonzero
//	    6   12 Ring
//
// # Decoding rules
//
// Decode accepts exactly one whole message of at most MaxSize bytes
// (ErrTooLong), of version 1 (ErrVersion) and a known kind (ErrKind), with
// nothing after it (ErrTrailing). A count larger than its limit is
// ErrTooLong, a count the remaining input cannot hold is ErrTruncated,
// so a decoder's allocations stay proportional to the input. An
// encapsulated frame that encapsulates is ErrNesting; every other bad value
// is ErrInvalid. Errors are *FieldError values naming kind, field and
// offset.
//
// Because every rule is enforced, the encoding is canonical: a byte string
// that decodes re-encodes to the same bytes. Decoded empty lists and empty
// fragment data are nil (never empty non-nil slices), so a message whose
// empty slices are nil survives Encode then Decode unchanged under
// reflect.DeepEqual. Fragment.Data aliases the input buffer.
//
// # Versioning
//
// The version byte changes whenever the layout of an existing kind changes;
// a decoder rejects versions it does not know with ErrVersion (there is no
// negotiation: all nodes of a cluster run the same version, and a rolling
// upgrade across a format change needs a release that reads both). A new
// message type gets a new, never used Kind number within the current
// version; kind numbers of removed types are never reused. New flag bits
// may only be defined together with a new version or kind, since old
// decoders reject unknown bits.
package wire
