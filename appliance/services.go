package appliance

import "github.com/ovsha/ovsha/cluster/totem"

// Service prefixes. Every payload broadcast over Totem starts with one byte
// naming the service that owns it, so several services share the ring's
// total order. A delivery whose first byte no service claims is logged and
// dropped. Allocate new values here, never reuse one.
const (
	// ServiceQuorum carries votequorum messages (quorumsvc.go): nodeinfo
	// ("I am quorate with expected votes N") and expected-votes changes.
	ServiceQuorum byte = 0x01
	// ServiceCRM and above belong to the resource manager (CIB updates,
	// attributes, fencing results); it allocates its values from here up.
	ServiceCRM byte = 0x02
)

// deliver hands one ordered delivery to the service its first byte names.
func (a *Appliance) deliver(ev totem.Event) {
	if len(ev.Payload) == 0 {
		a.log.Warn("dropping an empty delivery", "sender", ev.Sender)
		return
	}
	switch ev.Payload[0] {
	case ServiceQuorum:
		if before, after, changed := a.ctl.quorum.deliver(ev.Sender, ev.Payload); changed {
			a.logQuorum(before, after)
		}
	case ServiceCRM:
		a.crmEvent(ev) // crm.go
	default:
		a.log.Debug("dropping a delivery for a service this daemon does not run", "sender", ev.Sender, "service", ev.Payload[0])
	}
}
