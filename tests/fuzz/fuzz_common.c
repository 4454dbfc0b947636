/*
 * What the harnesses share; see fuzz_common.h.
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "base/conf.h"
#include "base/log.h"
#include "fuzz_common.h"

#ifndef FUZZ_KEYS_DIR
#define FUZZ_KEYS_DIR "tests/fuzz/keys"
#endif

extern char **environ;

static char scratch[256];
static EVP_PKEY *private_keys[FUZZ_ALGS];
static unsigned char secret[1024];
static size_t secret_len;

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
scratch_remove(void)
{
	if (scratch[0] != '\0')
		nftw(scratch, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0] != '\0')
		return scratch;
	snprintf(scratch, sizeof(scratch), "%s/dynconf-fuzz.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(scratch) == NULL) {
		perror(scratch);
		abort();
	}
	atexit(scratch_remove);
	return scratch;
}

static const char *
keys_dir(void)
{
	const char *dir = getenv("FUZZ_KEYS");

	return dir != NULL && *dir != '\0' ? dir : FUZZ_KEYS_DIR;
}

static FILE *
open_or_die(const char *path, const char *mode)
{
	FILE *fp = fopen(path, mode);

	if (fp == NULL) {
		perror(path);
		abort();
	}
	return fp;
}

/* The private key in dir/name; its public half written to the scratch dir. */
static EVP_PKEY *
load_key(const char *name, struct buf *public_paths)
{
	char path[512];
	EVP_PKEY *key;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.pem", keys_dir(), name);
	fp = open_or_die(path, "r");
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL) {
		fprintf(stderr, "%s: not a PEM private key\n", path);
		abort();
	}
	snprintf(path, sizeof(path), "%s/%s.pub", fuzz_scratch(), name);
	fp = open_or_die(path, "w");
	if (PEM_write_PUBKEY(fp, key) != 1)
		abort();
	fclose(fp);
	if (public_paths->len > 0)
		buf_putc(public_paths, ',');
	buf_puts(public_paths, path);
	return key;
}

static void
load_secret(void)
{
	FILE *fp;

	snprintf(conf.auth.jwt_hs256_secret_file,
	    sizeof(conf.auth.jwt_hs256_secret_file), "%s/hs256.secret", keys_dir());
	fp = open_or_die(conf.auth.jwt_hs256_secret_file, "r");
	secret_len = fread(secret, 1, sizeof(secret), fp);
	fclose(fp);
	/* As jwt.c reads it: without its line end. */
	while (secret_len > 0 && (secret[secret_len - 1] == '\n' ||
	    secret[secret_len - 1] == '\r'))
		secret_len--;
}

/* No DYNCONF_* variable of whoever runs the fuzzer changes the settings. */
static void
clear_dynconf_env(void)
{
	char name[256];
	size_t n;
	int again = 1;

	while (again) {
		again = 0;
		for (char **e = environ; *e != NULL; e++)
			if (strncmp(*e, "DYNCONF_", 8) == 0 &&
			    (n = strcspn(*e, "=")) < sizeof(name)) {
				memcpy(name, *e, n);
				name[n] = '\0';
				unsetenv(name);
				again = 1;
				break;
			}
	}
}

void
fuzz_conf(void)
{
	struct buf public_paths;
	char err[512];
	int logging = getenv("FUZZ_LOG") != NULL;

	clear_dynconf_env();
	if (conf_load(&conf, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz: conf: %s\n", err);
		abort();
	}
	snprintf(conf.log.target, sizeof(conf.log.target), "%s",
	    logging ? "stderr" : "/dev/null");
	conf.log.level = logging ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR;
	log_open(&conf);
	conf.auth.mode = AUTH_MODE_ON;
	buf_init(&public_paths);
	load_secret();
	private_keys[FUZZ_RS256] = load_key("rs256", &public_paths);
	private_keys[FUZZ_ES256] = load_key("es256", &public_paths);
	snprintf(conf.auth.jwt_public_keys, sizeof(conf.auth.jwt_public_keys),
	    "%s", public_paths.data);
	buf_free(&public_paths);
	snprintf(conf.auth.jwt_issuer, sizeof(conf.auth.jwt_issuer), "%s",
	    FUZZ_JWT_ISSUER);
	snprintf(conf.auth.jwt_audience, sizeof(conf.auth.jwt_audience), "%s",
	    FUZZ_JWT_AUDIENCE);
}

const char *
fuzz_alg_name(enum fuzz_alg alg)
{
	static const char *const names[FUZZ_ALGS] = { "HS256", "RS256", "ES256" };

	return names[alg];
}

void
fuzz_b64url(struct buf *out, const void *data, size_t len)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	unsigned long v;
	size_t i, n;

	for (i = 0; i < len; i += 3) {
		n = len - i < 3 ? len - i : 3;
		v = (unsigned long)p[i] << 16;
		if (n > 1)
			v |= (unsigned long)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		buf_putc(out, digits[(v >> 18) & 63]);
		buf_putc(out, digits[(v >> 12) & 63]);
		if (n > 1)
			buf_putc(out, digits[(v >> 6) & 63]);
		if (n > 2)
			buf_putc(out, digits[v & 63]);
	}
}

/* JOSE wants ES256 signatures as r || s, 32 bytes each; OpenSSL gives DER. */
static size_t
es256_raw(const unsigned char *der, size_t derlen, unsigned char raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;

	if (sig == NULL)
		abort();
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
		abort();
	ECDSA_SIG_free(sig);
	return 64;
}

/* input may point into out: it is read before anything is appended. */
void
fuzz_jwt_sign(struct buf *out, enum fuzz_alg alg, const char *input, size_t len)
{
	unsigned char sig[1024], raw[64];
	unsigned int maclen = 0;
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md;

	if (alg == FUZZ_HS256) {
		if (HMAC(EVP_sha256(), secret, (int)secret_len,
		    (const unsigned char *)input, len, sig, &maclen) == NULL)
			abort();
		siglen = maclen;
	} else {
		if ((md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
		    private_keys[alg]) != 1 ||
		    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input,
		    len) != 1)
			abort();
		EVP_MD_CTX_free(md);
	}
	buf_putc(out, '.');
	if (alg == FUZZ_ES256)
		fuzz_b64url(out, raw, es256_raw(sig, siglen, raw));
	else
		fuzz_b64url(out, sig, siglen);
}

void
fuzz_jwt_make(struct buf *out, enum fuzz_alg alg, const char *claims,
    size_t len)
{
	char header[64];
	size_t start = out->len;

	snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
	    fuzz_alg_name(alg));
	fuzz_b64url(out, header, strlen(header));
	buf_putc(out, '.');
	fuzz_b64url(out, claims, len);
	fuzz_jwt_sign(out, alg, out->data + start, out->len - start);
}
