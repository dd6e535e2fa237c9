package appliance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxRequestBody bounds every request body the control API reads.
const maxRequestBody = 1 << 20

// validator is implemented by request types that check their own values
// after decoding; the error names the offending field.
type validator interface {
	Validate() error
}

// decodeBody decodes the JSON body of a POST or PUT request into v: exactly
// one JSON object, no unknown fields, at most maxRequestBody bytes, and, when
// v implements Validate() error, valid values. Every error is one line
// naming the field at fault and is meant for a 400 answer; use it for every
// request body of the control API:
//
//	var req ExpectedRequest
//	if err := decodeBody(r, &req); err != nil {
//		writeError(w, http.StatusBadRequest, err.Error())
//		return
//	}
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if dec.More() {
		return errors.New("request body: unexpected data after the JSON object; send exactly one object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("request body: unexpected data after the JSON object; send exactly one object")
	}
	if val, ok := v.(validator); ok {
		if err := val.Validate(); err != nil {
			return fmt.Errorf("request body: %w", err)
		}
	}
	return nil
}

// bodyError turns encoding/json's errors into one line naming the field.
func bodyError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("request body: empty; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("request body: truncated JSON (at most %d bytes are read)", maxRequestBody)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Errorf("request body: want a JSON object, got %s", typeErr.Value)
		}
		return fmt.Errorf("request body: field %q: got %s, want %s", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &synErr):
		return fmt.Errorf("request body: invalid JSON at byte %d: %v", synErr.Offset, synErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("request body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fmt.Errorf("request body: %w", err)
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "an integer"
	case strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "true or false"
	case goKind == "slice", goKind == "array":
		return "an array"
	case goKind == "struct", goKind == "map":
		return "an object"
	}
	return goKind
}
