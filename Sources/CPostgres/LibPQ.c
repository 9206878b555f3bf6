// Every libpq function drctl calls, with libpq-fe.h's own prototype (the compiler checks each
// against it), forwarding to libpq.so.5 loaded on first use. A function missing here fails the
// link, never the run. Hidden: the forwarders are not exported from the drctl binary, so libpq's
// calls to its own functions never reach them.
#pragma GCC visibility push(hidden)
#include "CPostgres.h"
#include "CLibraryLoader.h"

#define LIBPQ_FUNCTIONS(F) \
    F(PQclear) F(PQconnectdbParams) F(PQerrorMessage) F(PQexec) F(PQexecParams) F(PQfinish) \
    F(PQfreemem) F(PQgetCopyData) F(PQgetResult) F(PQgetisnull) F(PQgetvalue) F(PQlibVersion) \
    F(PQnfields) F(PQntuples) F(PQputCopyData) F(PQputCopyEnd) F(PQresultErrorField) \
    F(PQresultErrorMessage) F(PQresultStatus) F(PQsendQuery) F(PQserverVersion) \
    F(PQsetNoticeProcessor) F(PQsocket) F(PQstatus)

DRCTL_LIBRARY(libpq, "libpq.so.5", "to talk to PostgreSQL", "libpq5", LIBPQ_FUNCTIONS);

const char *drctl_libpq_unavailable(void) { return drctl_library_load(&libpq); }

#define PQ(name) DRCTL_LIBRARY_FUNCTION(libpq, name)

void PQclear(PGresult *res) { PQ(PQclear)(res); }
PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname) {
    return PQ(PQconnectdbParams)(keywords, values, expand_dbname);
}
char *PQerrorMessage(const PGconn *conn) { return PQ(PQerrorMessage)(conn); }
PGresult *PQexec(PGconn *conn, const char *query) { return PQ(PQexec)(conn, query); }
PGresult *PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                       const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                       int resultFormat) {
    return PQ(PQexecParams)(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat);
}
void PQfinish(PGconn *conn) { PQ(PQfinish)(conn); }
void PQfreemem(void *ptr) { PQ(PQfreemem)(ptr); }
int PQgetCopyData(PGconn *conn, char **buffer, int async) { return PQ(PQgetCopyData)(conn, buffer, async); }
PGresult *PQgetResult(PGconn *conn) { return PQ(PQgetResult)(conn); }
int PQgetisnull(const PGresult *res, int tup_num, int field_num) { return PQ(PQgetisnull)(res, tup_num, field_num); }
char *PQgetvalue(const PGresult *res, int tup_num, int field_num) { return PQ(PQgetvalue)(res, tup_num, field_num); }
int PQlibVersion(void) { return PQ(PQlibVersion)(); }
int PQnfields(const PGresult *res) { return PQ(PQnfields)(res); }
int PQntuples(const PGresult *res) { return PQ(PQntuples)(res); }
int PQputCopyData(PGconn *conn, const char *buffer, int nbytes) { return PQ(PQputCopyData)(conn, buffer, nbytes); }
int PQputCopyEnd(PGconn *conn, const char *errormsg) { return PQ(PQputCopyEnd)(conn, errormsg); }
char *PQresultErrorField(const PGresult *res, int fieldcode) { return PQ(PQresultErrorField)(res, fieldcode); }
char *PQresultErrorMessage(const PGresult *res) { return PQ(PQresultErrorMessage)(res); }
ExecStatusType PQresultStatus(const PGresult *res) { return PQ(PQresultStatus)(res); }
int PQsendQuery(PGconn *conn, const char *query) { return PQ(PQsendQuery)(conn, query); }
int PQserverVersion(const PGconn *conn) { return PQ(PQserverVersion)(conn); }
PQnoticeProcessor PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg) {
    return PQ(PQsetNoticeProcessor)(conn, proc, arg);
}
int PQsocket(const PGconn *conn) { return PQ(PQsocket)(conn); }
ConnStatusType PQstatus(const PGconn *conn) { return PQ(PQstatus)(conn); }
