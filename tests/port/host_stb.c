/* host_stb.c - a host project compiling its own stb_image (external
 * linkage, its own options) beside scn.h's private copy: nothing clashes
 * at link time. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

int host_stb_ok(void);
int host_stb_ok(void) {
    int w, h, c;
    const unsigned char junk[4] = {1, 2, 3, 4};
    /* not an image: NULL and a reason, from the host's own copy */
    return stbi_load_from_memory(junk, 4, &w, &h, &c, 0) == NULL && stbi_failure_reason();
}
