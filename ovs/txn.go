package ovs

import (
	"github.com/ovn-org/libovsdb/ovsdb"
)

var zeroTimeout = 0

// ownedWait is a "wait" operation that fails the transaction unless the row
// uuid of table still exists, is named name and carries the ownership mark
// for id. It guards every change an agent makes to a row it owns.
func ownedWait(table, uuid, name, id string) ovsdb.Operation {
	return ovsdb.Operation{
		Op:    ovsdb.OperationWait,
		Table: table,
		Where: []ovsdb.Condition{
			ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: uuid}),
			ovsdb.NewCondition("external_ids", ovsdb.ConditionIncludes,
				ovsdb.OvsMap{GoMap: map[interface{}]interface{}{OwnerKey: id}}),
		},
		Until:   string(ovsdb.WaitConditionEqual),
		Columns: []string{"name"},
		Rows:    []ovsdb.Row{{"name": name}},
		Timeout: &zeroTimeout,
	}
}

// absentWait is a "wait" operation that fails the transaction if table has
// a row named name. (Until "!=" one row named name: an empty "rows" cannot
// be sent, the JSON field is omitempty in libovsdb.)
func absentWait(table, name string) ovsdb.Operation {
	return ovsdb.Operation{
		Op:      ovsdb.OperationWait,
		Table:   table,
		Where:   []ovsdb.Condition{ovsdb.NewCondition("name", ovsdb.ConditionEqual, name)},
		Until:   string(ovsdb.WaitConditionNotEqual),
		Columns: []string{"name"},
		Rows:    []ovsdb.Row{{"name": name}},
		Timeout: &zeroTimeout,
	}
}

// setMapKeys returns mutations that set exactly the keys of want in the map
// column col of the row uuid (delete those keys, then insert them), leaving
// every other key alone so concurrent writers of other keys are not
// clobbered.
func setMapKeys(table, uuid, col string, want map[string]string) []ovsdb.Operation {
	if len(want) == 0 {
		return nil
	}
	keys := make([]interface{}, 0, len(want))
	m := make(map[interface{}]interface{}, len(want))
	for k, v := range want {
		keys = append(keys, k)
		m[k] = v
	}
	where := []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: uuid})}
	return []ovsdb.Operation{{
		Op:    ovsdb.OperationMutate,
		Table: table,
		Where: where,
		Mutations: []ovsdb.Mutation{
			*ovsdb.NewMutation(col, ovsdb.MutateOperationDelete, ovsdb.OvsSet{GoSet: keys}),
			*ovsdb.NewMutation(col, ovsdb.MutateOperationInsert, ovsdb.OvsMap{GoMap: m}),
		},
	}}
}

// mapHas reports whether have holds every key of want with the same value.
func mapHas(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// setRef mutates the set-of-uuid column col of row uuid in table, inserting
// or deleting ref.
func setRef(table, uuid, col string, mutator ovsdb.Mutator, ref string) ovsdb.Operation {
	var r interface{} = ovsdb.UUID{GoUUID: ref}
	return ovsdb.Operation{
		Op:        ovsdb.OperationMutate,
		Table:     table,
		Where:     []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: uuid})},
		Mutations: []ovsdb.Mutation{*ovsdb.NewMutation(col, mutator, ovsdb.OvsSet{GoSet: []interface{}{r}})},
	}
}
