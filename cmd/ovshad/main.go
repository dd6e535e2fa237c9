// Command ovshad is the ovsha cluster daemon. It parses flags, handles
// signals and runs the appliance; all logic lives in package appliance.
package main

func main() {}
