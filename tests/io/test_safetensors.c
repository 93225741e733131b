/* safetensors: what the writer writes reads back exactly, and every kind of corrupt header fails
 * with a message naming the file and the tensor instead of reading out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "tests/test_util.h"

/* A file image: 8-byte length, the JSON header, then `data_len` bytes of data. */
static size_t make_image(uint8_t *buf, const char *json, size_t data_len, uint64_t claimed_len) {
    size_t n    = strlen(json);
    uint64_t hl = claimed_len ? claimed_len : n;
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(hl >> (8 * i));
    memcpy(buf + 8, json, n);
    memset(buf + 8 + n, 0x5a, data_len);
    return 8 + n + data_len;
}

static void expect_error(const char *json, size_t data_len, uint64_t claimed_len, const char *needle) {
    static uint8_t buf[8192];
    size_t n             = make_image(buf, json, data_len, claimed_len);
    struct sg_st_file *f = NULL;
    sg_status st         = sg_st_parse(buf, n, "bad.safetensors", &f);
    CHECK_MSG(st == SG_ERR_FORMAT, "expected a format error for %s", json);
    CHECK(f == NULL);
    CHECK_CONTAINS(sg_last_error(), "bad.safetensors");
    CHECK_CONTAINS(sg_last_error(), needle);
    sg_st_close(f);
}

static void test_writer_output_reads_back_exactly(void) {
    const char *path       = "/tmp/saeg-test-st.safetensors";
    float a[6]             = {1, 2, 3, 4, 5, 6};
    int32_t b[3]           = {-7, 0, 7};
    uint16_t h[5]          = {0x3c00, 0x4000, 0x4200, 0x4400, 0x4500};
    struct sg_st_decl d[3] = {{"a", SG_ST_F32, 2, {2, 3}}, {"b.idx", SG_ST_I32, 1, {3}}, {"half", SG_ST_F16, 1, {5}}};
    const char *meta[]     = {"format", "test", "note", "quote \" and \\ survive", NULL};
    struct sg_st_writer *w;
    CHECK(sg_st_writer_open(path, d, 3, meta, &w) == SG_OK);
    /* out of order and in pieces, as embed writes batch by batch */
    CHECK(sg_st_writer_put(w, 2, 0, h, sizeof h) == SG_OK);
    CHECK(sg_st_writer_put(w, 0, 12, a + 3, 12) == SG_OK);
    CHECK(sg_st_writer_put(w, 0, 0, a, 12) == SG_OK);
    CHECK(sg_st_writer_put(w, 1, 0, b, sizeof b) == SG_OK);
    CHECK(sg_st_writer_put(w, 1, 8, b, 8) == SG_ERR_INVALID_ARG); /* past the tensor's end */
    CHECK(sg_st_writer_close(w) == SG_OK);

    struct sg_st_file *f;
    CHECK(sg_st_open(path, &f) == SG_OK);
    CHECK(sg_st_count(f) == 3);
    const struct sg_st_tensor *ta = sg_st_find(f, "a"), *tb = sg_st_find(f, "b.idx"), *th = sg_st_find(f, "half");
    CHECK(ta && ta->dtype == SG_ST_F32 && ta->n_dims == 2 && ta->shape[0] == 2 && ta->shape[1] == 3);
    CHECK(ta && memcmp(ta->data, a, sizeof a) == 0);
    CHECK(tb && tb->dtype == SG_ST_I32 && memcmp(tb->data, b, sizeof b) == 0);
    CHECK(th && th->dtype == SG_ST_F16 && th->nbytes == sizeof h && memcmp(th->data, h, sizeof h) == 0);
    CHECK(ta && ((uintptr_t)ta->data % 8) == 0); /* data starts 8-byte aligned */
    CHECK(sg_st_metadata(f, "format") && strcmp(sg_st_metadata(f, "format"), "test") == 0);
    CHECK(sg_st_metadata(f, "note") && strcmp(sg_st_metadata(f, "note"), "quote \" and \\ survive") == 0);
    CHECK(sg_st_find(f, "missing") == NULL);
    sg_st_close(f);
    unlink(path);
}

static void test_header_length_past_end_fails(void) { expect_error("{}", 0, 5000, "runs past the end"); }

static void test_overlapping_offsets_fail(void) {
    expect_error("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                 "\"y\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
                 24, 0, "overlap");
}

static void test_unknown_dtype_fails(void) {
    expect_error("{\"x\":{\"dtype\":\"F33\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, 0, "unknown dtype 'F33'");
}

static void test_shape_size_mismatch_fails(void) {
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, 0, "tensor 'w': 20 bytes");
}

static void test_offsets_outside_data_fail(void) {
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16, 0, "outside");
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 16, 0, "outside");
}

static void test_malformed_headers_fail(void) {
    expect_error("not json at all", 0, 0, "does not start with '{'");
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, 0, "not a JSON object");
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, 0, "shape[0]");
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
                 0, "too large");
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, 0, "data_offsets");
    expect_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                 8, 0, "appears twice");
    expect_error("{\"__metadata__\":{\"a\":1}}", 0, 0, "not a string");
    uint8_t tiny[4]      = {1, 2, 3, 4};
    struct sg_st_file *f = NULL;
    CHECK(sg_st_parse(tiny, sizeof tiny, "tiny.safetensors", &f) == SG_ERR_FORMAT);
    CHECK_CONTAINS(sg_last_error(), "too short");
}

static void test_missing_file_is_not_found(void) {
    struct sg_st_file *f = NULL;
    CHECK(sg_st_open("/nonexistent/model.safetensors", &f) == SG_ERR_NOT_FOUND);
    CHECK_CONTAINS(sg_last_error(), "/nonexistent/model.safetensors");
}

static void test_empty_tensors_and_scalars_are_valid(void) {
    static uint8_t buf[512];
    size_t n             = make_image(buf,
                                      "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},"
                                                  "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}",
                                      8, 0);
    struct sg_st_file *f = NULL;
    CHECK(sg_st_parse(buf, n, "ok.safetensors", &f) == SG_OK);
    if (f) {
        CHECK(sg_st_find(f, "e")->n_elements == 0);
        CHECK(sg_st_find(f, "s")->n_dims == 0 && sg_st_find(f, "s")->n_elements == 1);
    }
    sg_st_close(f);
}

int main(void) {
    RUN_TEST(test_writer_output_reads_back_exactly);
    RUN_TEST(test_header_length_past_end_fails);
    RUN_TEST(test_overlapping_offsets_fail);
    RUN_TEST(test_unknown_dtype_fails);
    RUN_TEST(test_shape_size_mismatch_fails);
    RUN_TEST(test_offsets_outside_data_fail);
    RUN_TEST(test_malformed_headers_fail);
    RUN_TEST(test_missing_file_is_not_found);
    RUN_TEST(test_empty_tensors_and_scalars_are_valid);
    return test_exit_code();
}
