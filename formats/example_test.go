package formats_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"fileapi/formats"
)

func ExampleValidate() {
	file := `0;PAYMENTS;acme-creditor;ACME SAS;
1;IN;2;89.99;EUR;
PAYMENT_REFERENCE;AMOUNT;MANDATE_REFERENCE;MANDATE_SIGNATURE_DATE;DEBTOR_NAME;DEBTOR_IBAN;LABEL;
PAY-0001;39.99;UMR-0001;2025-03-14;Jeanne Martin;FR7630006000011234567890189;November subscription;
PAY-0002;40.00;UMR-0002;2024-11-02;Paul Durand;DE89370400440532013001;November subscription;
`
	opt := formats.Options{CreditorRef: "acme-creditor", Today: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	sum, issues, err := formats.Validate(strings.NewReader(file), opt)
	if err != nil {
		panic(err) // reading failed; a bad file is reported as issues
	}
	fmt.Println(sum.Type, sum.Lines, "lines")
	for _, is := range issues {
		fmt.Println(is.Line, is.Column, is.Code, is.Message)
	}
	// Output:
	// PAYMENTS 2 lines
	// 2  TOTAL_MISMATCH totals line says 89.99, lines add up to 79.99
	// 5 DEBTOR_IBAN INVALID_IBAN check digits do not match
}

func ExampleNewReader() {
	file := "0;REFUNDS;acme-creditor;ACME SAS;\n1;OUT;2;15.50;EUR;\n" +
		"REFUND_REFERENCE;PAYMENT_REFERENCE;AMOUNT;\n" +
		"REF-1;PAY-0001;10;\nREF-2;PAY-0002;5.5;\n"
	r, err := formats.NewReader(strings.NewReader(file))
	if err != nil {
		panic(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		ref := rec.(formats.Refund)
		fmt.Println(ref.Line, ref.Reference, ref.PaymentRef, ref.Amount, "cents")
	}
	// Output:
	// 4 REF-1 PAY-0001 1000 cents
	// 5 REF-2 PAY-0002 550 cents
}

func ExampleWriteAck() {
	formats.WriteAck(os.Stdout, formats.Ack{
		FileID:     "01JDQ4ZK8M3V7R0N5T2W9XG6HB",
		FileName:   "payments-1127.csv",
		Type:       formats.Payments,
		ReceivedAt: time.Date(2026, 11, 27, 9, 14, 3, 0, time.UTC),
		SHA256:     "9f2c",
		Lines:      2,
		Total:      8999,
	})
	// Output:
	// FILE_ID;FILE_NAME;FILE_TYPE;RECEIVED_AT;SHA256;LINES;TOTAL_AMOUNT;CURRENCY;STATUS;
	// 01JDQ4ZK8M3V7R0N5T2W9XG6HB;payments-1127.csv;PAYMENTS;2026-11-27T09:14:03Z;9f2c;2;89.99;EUR;ACKNOWLEDGED;
}

func ExampleWriteErr() {
	formats.WriteErr(os.Stdout, formats.ErrHeader{
		FileID: "01JDQ5", FileName: "payments-1127.csv", ReceivedAt: time.Date(2026, 11, 27, 9, 20, 11, 0, time.UTC),
	}, []formats.Issue{
		{Line: 5, Column: "DEBTOR_IBAN", Code: formats.CodeInvalidIBAN, Message: "check digits do not match"},
		{Code: formats.CodeDuplicateFile, Message: "same content as file 01JDQ4"},
	})
	// Output:
	// FILE_ID;FILE_NAME;RECEIVED_AT;LINE;COLUMN;CODE;MESSAGE;
	// 01JDQ5;payments-1127.csv;2026-11-27T09:20:11Z;;;DUPLICATE_FILE;same content as file 01JDQ4;
	// 01JDQ5;payments-1127.csv;2026-11-27T09:20:11Z;5;DEBTOR_IBAN;INVALID_IBAN;check digits do not match;
}

func ExampleResWriter() {
	rw := formats.NewResWriter(os.Stdout)
	rw.Write(formats.ResLine{Line: 4, Reference: "PAY-0001", Status: formats.StatusAccepted, TransactionID: "01JDQ6",
		Amount: 3999, ExecutionDate: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)})
	rw.Write(formats.ResLine{Line: 5, Reference: "PAY-0002", Status: formats.StatusRefused, ReasonCode: "AM05",
		Reason: "duplicate payment reference", Amount: 5000})
	if err := rw.Flush(); err != nil {
		panic(err)
	}
	// Output:
	// LINE;REFERENCE;STATUS;REASON_CODE;REASON;TRANSACTION_ID;AMOUNT;EXECUTION_DATE;
	// 4;PAY-0001;ACCEPTED;;;01JDQ6;39.99;2026-11-30;
	// 5;PAY-0002;REFUSED;AM05;duplicate payment reference;;50.00;;
}

func ExampleValidateIBAN() {
	for _, s := range []string{"DE89 3704 0044 0532 0130 00", "DE89370400440532013001", "DE8937040044053201300"} {
		fmt.Println(formats.ValidateIBAN(formats.NormalizeIBAN(s)))
	}
	// Output:
	// <nil>
	// check digits do not match
	// length 21 is wrong for DE, expected 22
}

func ExampleParseAmount() {
	cents, err := formats.ParseAmount("12.3")
	fmt.Println(cents, err, formats.FormatAmount(cents))
	_, err = formats.ParseAmount("12,30")
	fmt.Println(err)
	// Output:
	// 1230 <nil> 12.30
	// amount "12,30" is not a number like 89.99 (digits, a dot, up to 2 decimals)
}
