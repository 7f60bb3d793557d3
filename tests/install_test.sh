#!/bin/sh
# install_test.sh: `make install` honours PREFIX and DESTDIR, and a program
# builds against the installed header and library through pkg-config,
# statically and dynamically, seeing only the public API.
set -eu
SRC=$1
BUILD=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
DESTDIR="$dir/root" cmake --install "$BUILD" --prefix /opt/ebbtest > "$dir/install.log"
root="$dir/root/opt/ebbtest"
test -f "$root/include/ebb/ebb.h"
libdir=$(dirname "$(find "$root" -name libebb.a | head -1)")
test -f "$libdir/libebb.a"
test -f "$libdir/pkgconfig/ebb.pc"
ls "$libdir"/libebb.so* > /dev/null
cat > "$dir/app.c" <<'C'
#include <ebb/ebb.h>
#include <stdio.h>
static void out(void *ctx, const uint8_t *p, size_t n) { (void)ctx; (void)p; (void)n; }
int main(void)
{
	struct ebb_config c;
	ebb_config_init(&c);
	c.output = out;
	struct ebb_stack *s;
	if (ebb_stack_new(&c, &s))
		return 1;
	int fd = ebb_socket(s, AF_INET, SOCK_STREAM, 0);
	printf("%s %d\n", ebb_strerror(-104), fd);
	ebb_stack_free(s);
	return fd == 0 ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags ebb)
libs=$(pkg-config --libs ebb)
cc -std=c11 -Wall -Werror $cflags "$dir/app.c" -o "$dir/app_shared" $libs
LD_LIBRARY_PATH="$libdir" "$dir/app_shared" | grep -q "Connection reset by peer 0"
cc -std=c11 -Wall -Werror $cflags "$dir/app.c" -o "$dir/app_static" "$libdir/libebb.a"
"$dir/app_static" > /dev/null
# Hidden visibility: internal symbols are not exported by the shared library.
if nm -D --defined-only "$libdir"/libebb.so | grep -q " ebb__"; then
	echo "FAIL: internal ebb__ symbols exported"
	exit 1
fi
nm -D --defined-only "$libdir"/libebb.so | grep -q " ebb_stack_new"
echo "ok"
