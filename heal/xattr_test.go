package heal_test

import "github.com/pkg/xattr"

func setRaw(path, key string, v []byte) error { return xattr.LSet(path, key, v) }
