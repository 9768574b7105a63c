package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// item is a DynamoDB item, kept in its typed form end to end.
type item = map[string]types.AttributeValue

// seed makes the demo's data the same in every run.
const seed = 20261125

var (
	statuses  = []string{"PENDING", "PAID", "PAID", "SHIPPED", "SHIPPED", "DELIVERED", "DELIVERED", "DELIVERED", "REFUNDED"}
	skus      = []string{"SKU-MUG-01", "SKU-TEE-M", "SKU-TEE-L", "SKU-CAP-02", "SKU-BOOK-7", "SKU-PEN-10", "SKU-BAG-03", "SKU-SOCK-4"}
	tagPool   = []string{"gift", "express", "first-order", "b2b", "fragile", "eco-packaging", "vip"}
	cities    = []string{"Lyon", "Porto", "Kraków", "Tallinn", "Göteborg", "Zürich", "Bilbao", "Utrecht"}
	countries = []string{"FR", "PT", "PL", "EE", "SE", "CH", "ES", "NL"}
	streets   = []string{"Rue de la République", "Rua das Flores", "ul. Floriańska", "Pikk", "Kungsgatan", "Bahnhofstrasse", "Gran Vía", "Oudegracht"}
)

// makeOrders returns n orders spread over the given number of customers:
// pk "customer#NNN", sk "order#NNNN" (unique), and attributes of every
// kind an order table tends to have.
func makeOrders(n, customers int) []item {
	rng := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	out := make([]item, n)
	for i := range out {
		c := rng.IntN(len(cities))
		var cents int64
		var lines []types.AttributeValue
		for range 1 + rng.IntN(4) {
			qty := 1 + rng.IntN(3)
			price := int64(199 + rng.IntN(9800))
			cents += int64(qty) * price
			lines = append(lines, &types.AttributeValueMemberM{Value: item{
				"sku":   &types.AttributeValueMemberS{Value: skus[rng.IntN(len(skus))]},
				"qty":   &types.AttributeValueMemberN{Value: strconv.Itoa(qty)},
				"price": &types.AttributeValueMemberN{Value: decimal(price)},
			}})
		}
		created := base.Add(time.Duration(rng.IntN(55*24*60)) * time.Minute)
		pk := fmt.Sprintf("customer#%03d", 1+i%customers)
		sk := fmt.Sprintf("order#%04d", 1+i)
		hash := sha256.Sum256([]byte(pk + "/" + sk + "/" + decimal(cents)))
		it := item{
			"pk":          &types.AttributeValueMemberS{Value: pk},
			"sk":          &types.AttributeValueMemberS{Value: sk},
			"status":      &types.AttributeValueMemberS{Value: statuses[rng.IntN(len(statuses))]},
			"total":       &types.AttributeValueMemberN{Value: decimal(cents)},
			"currency":    &types.AttributeValueMemberS{Value: "EUR"},
			"createdAt":   &types.AttributeValueMemberS{Value: created.Format(time.RFC3339)},
			"paymentRef":  &types.AttributeValueMemberN{Value: digits38(rng)},
			"lines":       &types.AttributeValueMemberL{Value: lines},
			"tags":        &types.AttributeValueMemberSS{Value: pickTags(rng)},
			"receiptHash": &types.AttributeValueMemberB{Value: hash[:]},
			"shipTo": &types.AttributeValueMemberM{Value: item{
				"street":  &types.AttributeValueMemberS{Value: fmt.Sprintf("%d %s", 1+rng.IntN(120), streets[c])},
				"city":    &types.AttributeValueMemberS{Value: cities[c]},
				"country": &types.AttributeValueMemberS{Value: countries[c]},
				"geo": &types.AttributeValueMemberM{Value: item{
					"lat": &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%04d", 38+rng.IntN(22), 1+rng.IntN(9999))},
					"lon": &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%04d", 1+rng.IntN(25), 1+rng.IntN(9999))},
				}},
			}},
			"giftWrap": &types.AttributeValueMemberBOOL{Value: rng.IntN(4) == 0},
		}
		if rng.IntN(3) == 0 {
			it["couponCode"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("WELCOME%02d", rng.IntN(30))}
		} else {
			it["couponCode"] = &types.AttributeValueMemberNULL{Value: true}
		}
		out[i] = it
	}
	return out
}

// decimal formats cents as a number in DynamoDB's canonical form: "129.9",
// not "129.90".
func decimal(cents int64) string {
	whole, frac := cents/100, cents%100
	switch {
	case frac == 0:
		return strconv.FormatInt(whole, 10)
	case frac%10 == 0:
		return fmt.Sprintf("%d.%d", whole, frac/10)
	default:
		return fmt.Sprintf("%d.%02d", whole, frac)
	}
}

// digits38 returns a 38-digit integer, the most precision DynamoDB keeps
// (more than a float64 can hold).
func digits38(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteByte(byte('1' + rng.IntN(9)))
	for range 37 {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return b.String()
}

// pickTags returns 1 to 3 distinct tags.
func pickTags(rng *rand.Rand) []string {
	perm := rng.Perm(len(tagPool))
	n := 1 + rng.IntN(3)
	tags := make([]string, n)
	for i := range n {
		tags[i] = tagPool[perm[i]]
	}
	return tags
}

// migration says what badMigration did.
type migration struct {
	updated, deleted int
	// One of the damaged orders, before the damage.
	exampleKey, exampleStatus, exampleTotal string
}

// badMigration damages the table the way a buggy job would: it sets status
// to CANCELLED_BY_BUG and total to 0 on nUpdate orders and deletes nDelete
// others, picked at random (the same ones in every run).
func badMigration(ctx context.Context, api *dynamodb.Client, table string, items []item, nUpdate, nDelete int) (migration, error) {
	var m migration
	if nUpdate+nDelete > len(items) {
		return m, fmt.Errorf("bad migration: %d updates and %d deletes need more than %d items", nUpdate, nDelete, len(items))
	}
	perm := rand.New(rand.NewPCG(seed, 2)).Perm(len(items))
	for _, i := range perm[:nUpdate] {
		it := items[i]
		_, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(table),
			Key:                      item{"pk": it["pk"], "sk": it["sk"]},
			UpdateExpression:         aws.String("SET #status = :bug, #total = :zero"),
			ExpressionAttributeNames: map[string]string{"#status": "status", "#total": "total"},
			ExpressionAttributeValues: item{
				":bug":  &types.AttributeValueMemberS{Value: "CANCELLED_BY_BUG"},
				":zero": &types.AttributeValueMemberN{Value: "0"},
			},
		})
		if err != nil {
			return m, fmt.Errorf("bad migration: update %s: %w", keyText(it), err)
		}
		if m.updated == 0 {
			m.exampleKey = keyText(it)
			m.exampleStatus = it["status"].(*types.AttributeValueMemberS).Value
			m.exampleTotal = it["total"].(*types.AttributeValueMemberN).Value
		}
		m.updated++
	}
	for _, i := range perm[nUpdate : nUpdate+nDelete] {
		it := items[i]
		_, err := api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(table),
			Key:       item{"pk": it["pk"], "sk": it["sk"]},
		})
		if err != nil {
			return m, fmt.Errorf("bad migration: delete %s: %w", keyText(it), err)
		}
		m.deleted++
	}
	return m, nil
}

// keyText returns an order's key as "customer#NNN/order#NNNN".
func keyText(it item) string {
	pk, _ := it["pk"].(*types.AttributeValueMemberS)
	sk, _ := it["sk"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "<no key>"
	}
	return pk.Value + "/" + sk.Value
}
